"""Telegram updates -> transport-neutral `Turn`s.

Whose conversation: the chat's. In a private chat that is the user (chat id == user id); in a
group the whole group shares one conversation (chat id, negative), so everybody sees and
continues the same dialog and a button pressed by any member answers it. Each turn also names
its sender (from_user), for what belongs to a person: admin rights, a question only they were
asked, their personal data (which only a private chat shows). In groups the bot only
reacts when addressed: a command (for us or for all bots), an @mention, or a reply to one of
its messages; everything else in the group is none of its business.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Message, MessageEntity

from bot.telegram import SPEC, callback_data
from handlers.turn import Turn, TurnKind

TRANSPORT = SPEC.name
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?")


@dataclass(frozen=True, slots=True)
class Press:
    """A button press: the turn plus what the transport needs to answer it."""

    turn: Turn | None  # None: stale or forged data, answer kindly and do nothing else
    chat_id: int
    message_id: int | None
    on_question: bool


def user_id_for(chat_id: int) -> str:
    return str(chat_id)


def is_group(message: Message) -> bool:
    return message.chat.type in ("group", "supergroup")


def parse_command(text: str, bot_username: str) -> tuple[str, str] | None:
    """'/start@OurBot payload' -> ('start', 'payload'); None when not a command for us."""
    text = text.strip()
    head = text.split(maxsplit=1)[0] if text else ""
    m = _COMMAND.fullmatch(head)
    if not m:
        return None
    if m.group(2) and m.group(2).lower() != bot_username.lower():
        return None  # "/start@OtherBot": meant for another bot in the group
    return m.group(1).lower(), text[len(head) :].strip()


def _mentions_bot(message: Message, bot_username: str, bot_id: int) -> bool:
    text = message.text or ""
    for entity in message.entities or ():
        if entity.type == MessageEntity.MENTION:
            mention = text[entity.offset + 1 : entity.offset + entity.length]
            if mention.lower() == bot_username.lower():
                return True
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def _strip_mention(text: str, bot_username: str) -> str:
    return re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.IGNORECASE).strip()


def _person(message: Message) -> dict[str, Any]:
    """Turn fields naming the sender: an anonymous group admin or a channel posting as a chat is
    nobody in particular (the chat's own id, never an admin)."""
    private = message.chat.type == "private"
    user = message.from_user
    sender = str(user.id) if user is not None and message.sender_chat is None else ""
    return {"sender_id": sender, "private": private}


def direct_url(bot_username: str) -> str:
    return f"https://t.me/{bot_username}" if bot_username else ""


def message_turn(message: Message, bot_username: str, bot_id: int, at: dt.datetime) -> Turn | None:
    """The turn for a message, or None when the bot should stay silent."""
    language = message.from_user.language_code if message.from_user else None
    user_id = user_id_for(message.chat.id)
    group = is_group(message)
    who = _person(message)
    if not who["private"]:
        who["direct_url"] = direct_url(bot_username)
    reply_to_bot = bool(
        message.reply_to_message
        and message.reply_to_message.from_user
        and message.reply_to_message.from_user.id == bot_id
    )
    if message.chat.type == "channel":
        return None
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            command = parse_command(text, bot_username)
            if command is not None:
                name, args = command
                return Turn(
                    TRANSPORT,
                    user_id,
                    TurnKind.COMMAND,
                    command=name,
                    args=args,
                    language=language,
                    at=at,
                    **who,
                )
        if group:
            if not (_mentions_bot(message, bot_username, bot_id) or reply_to_bot):
                return None
            text = _strip_mention(text, bot_username)
        return Turn(TRANSPORT, user_id, TurnKind.TEXT, text=text, language=language, at=at, **who)
    if group and not reply_to_bot:
        return None
    location = message.location or (message.venue.location if message.venue else None)
    if location is not None:
        return Turn(
            TRANSPORT,
            user_id,
            TurnKind.LOCATION,
            lat=location.latitude,
            lon=location.longitude,
            language=language,
            at=at,
            **who,
        )
    if message.effective_attachment is not None or message.caption is not None:
        return Turn(TRANSPORT, user_id, TurnKind.UNSUPPORTED, language=language, at=at, **who)
    return None  # service messages: somebody joined, a title changed, …


def press_of(query: CallbackQuery, at: dt.datetime, bot_username: str = "") -> Press | None:
    """None for presses the bot cannot place at all (inline-mode messages without a chat)."""
    message = query.message
    if message is None:
        return None
    chat_id = message.chat.id
    language = query.from_user.language_code if query.from_user else None
    decoded = callback_data.decode(query.data)
    if decoded is None:
        return Press(None, chat_id, message.message_id, False)
    private = message.chat.type == "private"
    turn = Turn(
        TRANSPORT,
        user_id_for(chat_id),
        TurnKind.OPTION,
        option_id=decoded.option_id,
        language=language,
        at=at,
        sender_id=str(query.from_user.id),  # the person who pressed, not the one who was asked
        private=private,
        direct_url="" if private else direct_url(bot_username),
    )
    # an inaccessible (very old) message cannot be edited: only fresh ones are replaced in place
    editable = decoded.on_question and isinstance(message, Message)
    return Press(turn, chat_id, message.message_id, editable)
