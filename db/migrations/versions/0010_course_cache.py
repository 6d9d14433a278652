"""course_cache: answers of the Bundesagentur's course search, by normalised query, with fetch time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "course_cache",
        sa.Column("query_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fetched_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("page", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("query_key"),
    )


def downgrade() -> None:
    op.drop_table("course_cache")
