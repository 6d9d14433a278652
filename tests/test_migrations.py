"""Schema changes go through migrations: the migrated database equals the models, on both databases."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from db import migrate
from db.engine import make_engine
from db.schema import metadata


def test_migrations_produce_exactly_the_model_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    assert migrate.current_heads(database_url) == set()
    migrate.upgrade(database_url)
    heads = migrate.current_heads(database_url)
    assert "0001" not in heads and heads


def test_existing_subscriptions_of_a_private_chat_become_personal(database_url: str) -> None:
    """0013 backfill: a subscription whose conversation was bound to a person is personal (paused when
    the room gets more members); a group's is not."""
    migrate.downgrade(database_url, "0012")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for uid, ext, state in (
                (1, "!dm:x", {"private_with": "@a:x"}),
                (2, "!group:x", {"private_with": None}),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, transport, external_id, language, active, created_at,"
                        " last_seen_at) VALUES (:id, 'matrix', :ext, 'de', :t, :now, :now)"
                    ),
                    {"id": uid, "ext": ext, "t": True, "now": "2026-11-01 00:00:00"},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO conversations (user_id, state, updated_at) VALUES (:id, :state, :now)"
                    ),
                    {"id": uid, "state": json.dumps(state), "now": "2026-11-01 00:00:00"},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO subscriptions (user_id, active, topics, subscribed_at, updated_at)"
                        " VALUES (:id, :t, '[]', :now, :now)"
                    ),
                    {"id": uid, "t": True, "now": "2026-11-01 00:00:00"},
                )
        migrate.upgrade(database_url)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT user_id, personal FROM subscriptions ORDER BY user_id")).all()
        assert [(u, bool(p)) for u, p in rows] == [(1, True), (2, False)]
    finally:
        engine.dispose()
