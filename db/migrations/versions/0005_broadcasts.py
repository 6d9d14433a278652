"""admin broadcasts through the delivery outbox; merges the heads 0002, 0003 and 0004

A broadcast delivery has no event: `deliveries.event_id` becomes nullable, `broadcast_id` is
added (cascading with its broadcast) with its own unique key (user, broadcast), and a check
makes sure every row belongs to exactly one of the two.

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE_CHECK = "(event_id IS NULL) <> (broadcast_id IS NULL)"


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("target_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("target_value", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_deliveries_broadcast_id"), ["broadcast_id"], unique=False)
        batch_op.create_unique_constraint("uq_deliveries_broadcast", ["user_id", "broadcast_id"])
        batch_op.create_foreign_key(
            "deliveries_broadcast_id_fkey", "broadcasts", ["broadcast_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_check_constraint("ck_deliveries_source", SOURCE_CHECK)


def downgrade() -> None:
    # rows without an event cannot exist in the older schema
    op.execute(sa.text("DELETE FROM deliveries WHERE event_id IS NULL"))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("ck_deliveries_source", type_="check")
        batch_op.drop_constraint("deliveries_broadcast_id_fkey", type_="foreignkey")
        batch_op.drop_constraint("uq_deliveries_broadcast", type_="unique")
        batch_op.drop_index(batch_op.f("ix_deliveries_broadcast_id"))
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("broadcast_id")
    op.drop_table("broadcasts")
