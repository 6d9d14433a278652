"""Replies → Matrix message contents: plain `body` plus HTML `formatted_body`, options as a numbered list.

Matrix has no buttons, so options are numbered across all replies of one turn (as in the
console) and the user answers with the number, the label, free text or a 1️⃣ … 🔟 reaction.
All offer and user text is HTML-escaped; only http(s) URLs become anchors.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.matrix import SPEC
from handlers.catalogue import t
from handlers.turn import Attachment, Option, Reply

# well below the 65 kB event limit even after encryption (base64) and with the HTML copy
MAX_BODY = 8000
KEYCAPS: tuple[str, ...] = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
_URL = re.compile(r"https?://[^\s<>\"']+")
_URL_TRAILING = ".,;:!?)]}»“”"


@dataclass(frozen=True, slots=True)
class Outgoing:
    contents: tuple[dict[str, Any], ...]  # m.room.message contents (m.text), in order
    options: tuple[Option, ...]  # in the numbering shown: options[0] is "1)"
    attachments: tuple[Attachment, ...]


def linkify(text: str) -> str:
    """Escapes text for HTML; http(s) URLs become anchors (nothing else is trusted)."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        end = match.start() + len(url)
        out.append(html.escape(text[pos : match.start()], quote=False))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url, quote=False)}</a>')
        pos = end
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out).replace("\n", "<br/>")


def _block(reply: Reply, first_number: int) -> tuple[str, str]:
    plain = [reply.text]
    rich = [f"<p>{linkify(reply.text)}</p>"]
    links = [link for link in reply.links if link.url not in reply.text]
    for link in links:
        plain.append(f"→ {link.label}: {link.url}")
    if links:
        anchors = "<br/>".join(
            f'→ <a href="{html.escape(link.url, quote=True)}">{html.escape(link.label, quote=False)}</a>'
            for link in links
            if link.url.startswith(("http://", "https://"))
        )
        if anchors:
            rich.append(f"<p>{anchors}</p>")
    if reply.options:
        plain.extend(f"{n}) {o.label}" for n, o in enumerate(reply.options, start=first_number))
        items = "".join(f"<li>{html.escape(o.label, quote=False)}</li>" for o in reply.options)
        rich.append(f'<ol start="{first_number}">{items}</ol>')
    return "\n".join(plain), "".join(rich)


def _split(plain: str, limit: int) -> list[str]:
    """A single oversized reply is cut at line ends (hard-cut only for a giant single line)."""
    parts: list[str] = []
    current = ""
    for line in plain.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _content(plain: str, rich: str) -> dict[str, Any]:
    return {
        "msgtype": "m.text",
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": rich,
        "m.mentions": {},  # the bot never pings anyone, whatever the offer text says
    }


def render(replies: Iterable[Reply], lang: str = "de", limit: int = MAX_BODY) -> Outgoing:
    blocks: list[tuple[str, str]] = []
    options: list[Option] = []
    attachments: list[Attachment] = []
    asks = False
    for reply in replies:
        blocks.append(_block(reply, len(options) + 1))
        options.extend(reply.options)
        asks = asks or bool(reply.options and reply.question)
        if reply.attachment is not None:
            attachments.append(reply.attachment)
    if options and asks:
        hint = t(lang, "matrix.options_hint", p=SPEC.command_prefix)
        blocks.append((hint, f"<p><em>{html.escape(hint, quote=False)}</em></p>"))

    contents: list[dict[str, Any]] = []
    plain_acc: list[str] = []
    rich_acc: list[str] = []
    size = 0
    for plain, rich in blocks:
        if plain_acc and size + len(plain) + 2 > limit:
            contents.append(_content("\n\n".join(plain_acc), "".join(rich_acc)))
            plain_acc, rich_acc, size = [], [], 0
        if len(plain) > limit:  # one reply alone is too long: plain pieces, HTML mirrors them
            for piece in _split(plain, limit):
                contents.append(_content(piece, f"<p>{linkify(piece)}</p>"))
            continue
        plain_acc.append(plain)
        rich_acc.append(rich)
        size += len(plain) + 2
    if plain_acc:
        contents.append(_content("\n\n".join(plain_acc), "".join(rich_acc)))
    return Outgoing(tuple(contents), tuple(options), tuple(attachments))


def file_content(
    attachment: Attachment, url: str | None, encrypted_file: dict[str, Any] | None
) -> dict[str, Any]:
    """An m.file message for an uploaded attachment (plain `url`, or `file` in encrypted rooms)."""
    content: dict[str, Any] = {
        "msgtype": "m.file",
        "body": attachment.filename,
        "filename": attachment.filename,
        "info": {"mimetype": attachment.mime_type, "size": len(attachment.data)},
        "m.mentions": {},
    }
    if encrypted_file is not None:
        content["file"] = encrypted_file
    else:
        content["url"] = url
    return content
