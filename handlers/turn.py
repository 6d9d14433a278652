"""Neutral input and output of the dialog core.

Transports translate their updates into a `Turn` and render `Reply` objects; nothing here
knows about Telegram, Matrix or a terminal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class TurnKind(StrEnum):
    TEXT = "text"  # free text typed by the user
    OPTION = "option"  # a button / numbered choice, carries an option id
    COMMAND = "command"  # /start, !hilfe, …: command name without prefix
    LOCATION = "location"  # a shared GPS position
    UNSUPPORTED = "unsupported"  # sticker, photo, voice, document …


@dataclass(frozen=True, slots=True)
class Turn:
    """One input. `user_id` names the conversation (a chat or room: in a group everybody shares
    it); `sender_id` names the person who wrote, for what belongs to a person and not to the group
    (admin rights, the answer to a question only they were asked). Both default to a 1:1
    conversation, as on the console: sender = conversation, private."""

    transport: str
    user_id: str
    kind: TurnKind
    text: str = ""
    option_id: str = ""
    command: str = ""
    args: str = ""
    lat: float | None = None
    lon: float | None = None
    language: str | None = None  # the client's language hint (e.g. Telegram's language_code)
    # when the message arrived, stamped by the transport from its clock: the dialog's only "now"
    at: dt.datetime = field(kw_only=True)
    sender_id: str = ""  # "" means: the conversation's own id (a 1:1 transport)
    private: bool = True  # False in a group chat or a room with more than the bot and the sender
    direct_url: str = ""  # a link that opens a private chat with the bot, when the transport has one

    def __post_init__(self) -> None:
        if not self.sender_id:
            object.__setattr__(self, "sender_id", self.user_id)


@dataclass(frozen=True, slots=True)
class Option:
    id: str  # stable short ASCII id, e.g. "sit:betrieb"
    label: str
    # True for an option that opens something beside its question (an offer's details, contacts,
    # another feature): a transport that edits the question in place keeps this one on screen
    beside: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    links: tuple[Link, ...] = ()
    attachment: Attachment | None = None
    # True for the message that carries the current question: transports may edit it in place
    question: bool = False
