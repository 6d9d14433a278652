"""console_accounts: personal accounts of the partner console (argon2 hash, role, institutions);
offers/institutions.edited_at/by: texts edited in the console, which `knowledge load` must not overwrite

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("institutions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", db.types.UTCDateTime(), nullable=True),
        sa.Column("last_login_at", db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login", name="uq_console_accounts_login"),
    )
    for table in ("offers", "institutions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("edited_at", db.types.UTCDateTime(), nullable=True))
            batch.add_column(
                sa.Column("edited_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
            )


def downgrade() -> None:
    for table in ("offers", "institutions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("edited_by")
            batch.drop_column("edited_at")
    op.drop_table("console_accounts")
