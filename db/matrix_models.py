"""Tables of the Matrix transport: what a restart of the bot must not forget.

- `matrix_accounts`: per bot account the device id (so a restart keeps the same device and its
  encryption keys) and the sync token (so old messages are never answered twice).
- `matrix_rooms`: the rooms the bot is in (greeted once); a row is deleted, together with the
  room's conversation, as soon as the bot is out of the room (bot/matrix/state.py `purge_room`).
- `matrix_options`: the options last shown in a conversation, so that "3" or a 1️⃣ reaction still
  means the same choice after a restart.

Nothing here is message content; option labels come from the catalogue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow


class MatrixAccount(SQLModel, table=True):
    __tablename__ = "matrix_accounts"

    user_id: str = Field(primary_key=True, max_length=255)
    device_id: str | None = Field(default=None, max_length=255)
    next_batch: str | None = Field(default=None, max_length=1024)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MatrixRoom(SQLModel, table=True):
    """A room the bot is in (or was): operational data about the bot, not about a person."""

    __tablename__ = "matrix_rooms"

    account: str = Field(primary_key=True, max_length=255)  # the bot's user id
    room_id: str = Field(primary_key=True, max_length=255)
    joined: bool = Field(default=True)
    greeted: bool = Field(default=False)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MatrixOptions(SQLModel, table=True):
    """The options last shown in a conversation's room, in the numbering the person saw.

    Keyed by the conversation's user row (external id = room id), so a data export shows it and
    a deletion removes it with everything else (foreign key, ON DELETE CASCADE).
    """

    __tablename__ = "matrix_options"

    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    options: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # [[option id, label], …]
    option_events: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # events that showed them
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
