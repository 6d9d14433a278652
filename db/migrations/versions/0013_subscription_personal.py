"""subscriptions.personal: made in a private chat, so its messages are for that one person only

A Matrix direct chat can become a room of several people; the reminders of a subscription made
while it was private must then stop (bot/matrix/sharing.py). Existing subscriptions count as
personal when their conversation was bound to a person (`state.private_with`): erring towards
pausing, since a group subscription can simply be made again.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

subscriptions = sa.table(
    "subscriptions", sa.column("user_id", sa.Integer()), sa.column("personal", sa.Boolean())
)
conversations = sa.table("conversations", sa.column("user_id", sa.Integer()), sa.column("state", sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(conversations.c.user_id, conversations.c.state).where(
            conversations.c.user_id.in_(sa.select(subscriptions.c.user_id))
        )
    ).all()
    bound = [user_id for user_id, state in rows if isinstance(state, dict) and state.get("private_with")]
    if bound:
        conn.execute(subscriptions.update().where(subscriptions.c.user_id.in_(bound)).values(personal=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("personal")
