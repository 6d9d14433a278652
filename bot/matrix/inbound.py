"""Matrix messages and reactions → `Turn`s, using the options last shown in the room.

A number (1–n), a label typed exactly or with a small typo, or a 1️⃣ … 🔟 reaction on the
message that showed the options becomes an OPTION turn; `!name args` a COMMAND turn; anything
else free text for the dialog. In rooms with several people the bot reacts only when addressed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from bot.matrix import SPEC
from bot.matrix.render import KEYCAPS
from handlers.turn import Option, Turn, TurnKind

TRANSPORT = SPEC.name
COMMAND_PREFIX = SPEC.command_prefix
FUZZY_MIN_SCORE = 88
_NUMBER = re.compile(r"^\s*(?:nr\.?\s*)?(\d{1,3})\s*[.)]?\s*$", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_KEYCAP_NUMBER = {key.replace("\ufe0f", ""): n for n, key in enumerate(KEYCAPS, start=1)}


def keycap_number(key: str) -> int | None:
    """'3️⃣' (with or without the emoji variation selector) → 3; '🔟' → 10; anything else → None."""
    return _KEYCAP_NUMBER.get(key.strip().replace("\ufe0f", ""))


def strip_reply_fallback(body: str) -> str:
    """Drops the quoted '> <@someone> …' lines a Matrix reply puts in front of the answer."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    return "\n".join(lines[i:]).strip()


def _norm(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def match_label(text: str, options: Sequence[Option]) -> Option | None:
    """The one option whose label the text names; None when none fits or several would."""
    wanted = _norm(text)
    if not wanted or not options:
        return None
    exact = {o.id: o for o in options if _norm(o.label) == wanted}
    if exact:
        return next(iter(exact.values())) if len(exact) == 1 else None
    if len(wanted) < 4:
        return None
    scored = sorted(((fuzz.ratio(wanted, _norm(o.label)), o) for o in options), key=lambda p: -p[0])
    best_score, best = scored[0]
    if best_score < FUZZY_MIN_SCORE:
        return None
    if any(score == best_score and o.id != best.id for score, o in scored[1:]):
        return None
    return best


def command_name(raw: str) -> str:
    """'!Löschen' and '!loeschen' name the same command; Telegram-style ASCII names are canonical."""
    return raw.casefold().translate(_TRANSLIT)


def parse_text(room_id: str, text: str, options: Sequence[Option], at: dt.datetime) -> Turn:
    body = text.strip()
    if body.startswith(COMMAND_PREFIX) and len(body) > 1 and not body[1].isspace():
        name, _, args = body[1:].partition(" ")
        return Turn(
            TRANSPORT, room_id, TurnKind.COMMAND, command=command_name(name), args=args.strip(), at=at
        )
    number = _NUMBER.match(body)
    if number and options:
        index = int(number.group(1)) - 1
        if 0 <= index < len(options):
            return Turn(TRANSPORT, room_id, TurnKind.OPTION, option_id=options[index].id, at=at)
    chosen = match_label(body, options)
    if chosen is not None:
        return Turn(TRANSPORT, room_id, TurnKind.OPTION, option_id=chosen.id, at=at)
    return Turn(TRANSPORT, room_id, TurnKind.TEXT, text=text, at=at)


def parse_reaction(
    room_id: str,
    key: str,
    reacts_to: str,
    options: Sequence[Option],
    option_events: Sequence[str],
    at: dt.datetime,
) -> Turn | None:
    """Only a number emoji on a message that showed the current options counts; others are ignored."""
    number = keycap_number(key)
    if number is None or reacts_to not in option_events or number > len(options):
        return None
    return Turn(TRANSPORT, room_id, TurnKind.OPTION, option_id=options[number - 1].id, at=at)


@dataclass(frozen=True, slots=True)
class Addressed:
    yes: bool
    text: str  # the message without the leading mention ("" when it was only the mention)


def addressed(content: Mapping[str, Any], body: str, bot_id: str, bot_name: str | None) -> Addressed:
    """Is the bot meant? A `!`-command, an intentional mention (m.mentions), a pill link or its name first."""
    text = body.strip()
    if text.startswith(COMMAND_PREFIX):
        return Addressed(True, text)
    names = [n for n in (bot_name, bot_id, bot_id.split(":")[0].lstrip("@")) if n]
    lowered = text.casefold()
    for name in sorted(names, key=len, reverse=True):
        for candidate in (name, f"@{name}" if not name.startswith("@") else name):
            if lowered.startswith(candidate.casefold()):
                rest = text[len(candidate) :]
                if not rest or rest[0] in ":,; \n":
                    return Addressed(True, rest.lstrip(":,; \n"))
    mentions = content.get("m.mentions")
    if isinstance(mentions, Mapping) and bot_id in (mentions.get("user_ids") or []):
        return Addressed(True, text)
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and f"matrix.to/#/{bot_id}" in formatted:
        return Addressed(True, text)
    return Addressed(False, text)
