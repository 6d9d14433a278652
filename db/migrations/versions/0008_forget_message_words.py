"""forget words of users' messages kept in the dialog state

Earlier versions kept up to 12 words of a user's free text in `conversations.state["keywords"]`
(names, diagnoses, anything typed), although the privacy notice says the wording of messages is
not stored. The dialog now keeps only keywords of the offer catalogue; this empties the old lists
(they only nudged the order of results, which the next message rebuilds).

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

conversations = sa.table("conversations", sa.column("user_id", sa.Integer()), sa.column("state", sa.JSON()))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(conversations.c.user_id, conversations.c.state)).all()
    for user_id, state in rows:
        if isinstance(state, dict) and state.get("keywords"):
            conn.execute(
                conversations.update()
                .where(conversations.c.user_id == user_id)
                .values(state={**state, "keywords": []})
            )


def downgrade() -> None:
    pass  # forgotten words cannot come back, and the older code reads an empty list fine
