"""Callback data of inline buttons: `v1|<kind>|<option id>`, short, versioned and validated.

Telegram hands callback data back verbatim, so it is user input: a button from an older bot
version, or data forged by a modified client, must be told apart from a valid press and answered
kindly instead of raising. Format (ASCII, at most 64 bytes as Telegram demands):

    v1|q|sit:betrieb      button on a question message: the press may edit that message in place
    v1|m|offer:xyz        button on any other message (an offer card): the message stays

The kind travels in the data because Telegram does not tell us which of our messages was a
question; everything else about the dialog stays in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64
QUESTION = "q"
MESSAGE = "m"
# option ids are short ASCII ids such as "sit:betrieb", "contact:<offer id>", "nav:back"
_OPTION_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,58}")
_PREFIX_LEN = len(f"{VERSION}|{QUESTION}|")


class CallbackDataError(ValueError):
    """An option id cannot be put on a button (a programming error, not user input)."""


@dataclass(frozen=True, slots=True)
class ButtonPress:
    option_id: str
    on_question: bool


def encode(option_id: str, on_question: bool) -> str:
    if not _OPTION_ID.fullmatch(option_id) or _PREFIX_LEN + len(option_id) > MAX_BYTES:
        raise CallbackDataError(f"option id {option_id!r} is not short ASCII")
    return f"{VERSION}|{QUESTION if on_question else MESSAGE}|{option_id}"


def decode(data: object) -> ButtonPress | None:
    """The press, or None for anything stale, foreign or forged."""
    if not isinstance(data, str) or len(data) > MAX_BYTES:
        return None
    version, sep1, rest = data.partition("|")
    kind, sep2, option_id = rest.partition("|")
    if version != VERSION or not (sep1 and sep2) or kind not in (QUESTION, MESSAGE):
        return None
    if not _OPTION_ID.fullmatch(option_id):
        return None
    return ButtonPress(option_id, kind == QUESTION)
