"""Replies as Telegram messages: text within 4,096 UTF-16 units, inline keyboards, URL buttons, files.

`messages_for` is pure (Reply -> what to send); `deliver` sends them in order, optionally editing
the message whose button was pressed instead of sending the first one anew. Texts go out as
plain text (no parse mode), so nothing in an offer description can break the formatting.

Telegram measures text in UTF-16 code units, not code points: an emoji outside the Basic
Multilingual Plane counts twice. Splitting by Python's `len` let an emoji-heavy broadcast exceed
the limit and fail permanently ("message is too long"), so lengths here are UTF-16 lengths.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.telegram import callback_data
from handlers.turn import Attachment, Link, Option, Reply

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_LABEL = 60
PAIR_LABEL = 18  # two buttons share a row when both labels are at most this long
NUMBERS_PER_ROW = 5  # numbered buttons ("Nr. 3") of a results page share one row
_NUMBERED = re.compile(r"\D{0,4}\d{1,3}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OutMessage:
    text: str
    markup: InlineKeyboardMarkup | None = None
    document: Attachment | None = None


def utf16_len(text: str) -> int:
    """Telegram's length of a text: code points above U+FFFF are surrogate pairs, two units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """How many code points of `text` fit into `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


_JOINERS = frozenset("\u200d\ufe0e\ufe0f") | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def _hard_cut(text: str, cut: int) -> int:
    """Moves a cut without separator back a little so it does not tear an emoji sequence
    (zero-width joiner, variation selector, skin tone) apart."""
    for candidate in range(cut, max(cut - 16, 0), -1):
        if text[candidate] not in _JOINERS and text[candidate - 1] != "\u200d":
            return candidate
    return cut


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cuts at paragraph breaks, else at line breaks, else at spaces, else hard; every part is at
    most `limit` UTF-16 units long."""
    text = text.strip()
    chunks: list[str] = []
    while utf16_len(text) > limit:
        fits = _fitting_prefix(text, limit)  # < len(text): the whole text does not fit
        window = text[: fits + 1]
        cuts = (window.rfind(sep) for sep in ("\n\n", "\n", " "))
        cut = next((c for c in cuts if c > fits // 4), None)
        if cut is None:
            cut = max(1, _hard_cut(text, fits))
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Options as callback buttons (short labels two per row), then one URL button per link."""
    if not reply.options and not reply.links:
        return None
    return _keyboard(reply.options, reply.links, reply.question)


# The same questions and cards come up again and again, and building PTB's (immutable) keyboard
# objects was a measurable part of every reply's CPU time: reuse them.
@lru_cache(maxsize=1024)
def _keyboard(
    options: tuple[Option, ...], links: tuple[Link, ...], question: bool
) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    row_size = 0  # how many buttons the current row takes
    for option in options:
        label = _label(option.label)
        try:
            # a press edits the question in place, unless the option opens something beside it
            data = callback_data.encode(option.id, question and not option.beside)
        except callback_data.CallbackDataError:  # a bug elsewhere must not cost the user the whole answer
            log.error("option id unusable as Telegram callback data: %r", option.id)
            continue
        button = InlineKeyboardButton(label, callback_data=data)
        size = NUMBERS_PER_ROW if _NUMBERED.fullmatch(label) else 2 if len(label) <= PAIR_LABEL else 1
        if row and size != row_size:
            rows.append(row)
            row = []
        row.append(button)
        row_size = size
        if len(row) == size:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    seen: set[str] = set()
    for link in links:
        if _URL.fullmatch(link.url) and link.url not in seen:
            seen.add(link.url)
            rows.append([InlineKeyboardButton(_label(link.label) or link.url[:MAX_LABEL], url=link.url)])
    return InlineKeyboardMarkup(rows) if rows else None


def messages_for(reply: Reply) -> list[OutMessage]:
    """One reply -> one message, more only when the text exceeds Telegram's limit; the keyboard
    goes under the last part, an attachment follows as a document."""
    markup = keyboard(reply)
    chunks = split_text(reply.text)
    if not chunks and markup is not None:
        chunks = ["…"]
    out = [OutMessage(chunk) for chunk in chunks[:-1]]
    if chunks:
        out.append(OutMessage(chunks[-1], markup))
    if reply.attachment is not None:
        out.append(OutMessage("", None, reply.attachment))
    return out


async def send(bot: Bot, chat_id: int, message: OutMessage) -> None:
    if message.document is not None:
        await bot.send_document(
            chat_id,
            document=message.document.data,
            filename=message.document.filename,
            caption=message.text or None,
            reply_markup=message.markup,
        )
    else:
        await bot.send_message(chat_id, message.text, reply_markup=message.markup)


async def edit(bot: Bot, chat_id: int, message_id: int, message: OutMessage) -> bool:
    """Replaces the text and keyboard of a sent message; False when Telegram cannot edit it."""
    try:
        await bot.edit_message_text(
            message.text, chat_id=chat_id, message_id=message_id, reply_markup=message.markup
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return True  # the same question again (e.g. a double tap): already on screen
        log.info("editing a message failed (%s); sending it anew", exc.message)
        return False
    return True


def grouped(replies: Sequence[Reply]) -> list[Reply]:
    """Fewer, calmer messages: a reply that is only text (a greeting, "Verstanden: …", a hint) goes
    into the message of the reply after it, so /start is one message and a tap one edit. Every
    message costs a Bot API request and a slot of the chat's send budget (1 per second)."""
    out: list[Reply] = []
    lead = ""
    for reply in replies:
        if lead:
            text = f"{lead}\n\n{reply.text}" if reply.text else lead
            if utf16_len(text) <= MAX_TEXT or utf16_len(reply.text) > MAX_TEXT:
                reply = replace(reply, text=text)
            else:
                out.append(Reply(lead))
            lead = ""
        if not (reply.options or reply.links or reply.attachment):
            lead = reply.text
            continue
        out.append(reply)
    if lead:
        out.append(Reply(lead))
    return out


async def deliver(
    bot: Bot, chat_id: int, replies: Sequence[Reply], edit_message_id: int | None = None
) -> None:
    """Sends the replies in order; with `edit_message_id` the first message replaces that one."""
    outgoing = [m for reply in grouped(replies) for m in messages_for(reply)]
    for index, message in enumerate(outgoing):
        if (
            index == 0
            and edit_message_id is not None
            and message.document is None
            and await edit(bot, chat_id, edit_message_id, message)
        ):
            continue
        await send(bot, chat_id, message)
