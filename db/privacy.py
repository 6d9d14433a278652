"""Everything stored about one person: export it readably, or delete it in one transaction.

Tables are found through their foreign keys to `users` (and one level further, e.g. deliveries
of a subscription), so a table added later is covered without touching this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from db.engine import rowcount
from db.models import User
from db.schema import metadata

MAX_ROWS_PER_TABLE = 5_000


def _children(table: sa.Table) -> list[tuple[sa.Table, sa.Column[Any], sa.Column[Any]]]:
    """(child table, child fk column, referenced column in `table`) for every table pointing at `table`."""
    out = []
    for child in metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                out.append((child, fk.parent, fk.column))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def export_user_data(session: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    users_table = metadata.tables["users"]
    user_row = {k: _jsonable(v) for k, v in user.model_dump().items()}
    out: dict[str, list[dict[str, Any]]] = {"users": [user_row]}
    stack: list[tuple[sa.Table, list[Any]]] = [(users_table, [user.id])]
    while stack:
        table, ids = stack.pop()
        for child, fk_col, _ref in _children(table):
            if child is table or child.name in out:
                continue
            query = sa.select(child).where(fk_col.in_(ids)).limit(MAX_ROWS_PER_TABLE)
            rows = session.execute(query).mappings().all()
            if not rows:
                continue
            out[child.name] = [{k: _jsonable(v) for k, v in r.items()} for r in rows]
            pk = list(child.primary_key.columns)
            if len(pk) == 1:
                stack.append((child, [r[pk[0].name] for r in rows]))
    return out


def delete_user(session: Session, user: User) -> int:
    """Deletes the user and every row that refers to them (children first); returns rows deleted."""
    users_table = metadata.tables["users"]
    plan: list[tuple[sa.Table, sa.Column[Any], list[Any]]] = []

    def collect(table: sa.Table, ids: list[Any]) -> None:
        for child, fk_col, _ref in _children(table):
            if child is table:
                continue
            pk = list(child.primary_key.columns)
            child_ids: list[Any] = []
            if len(pk) == 1:
                child_ids = [r[0] for r in session.execute(sa.select(pk[0]).where(fk_col.in_(ids))).all()]
                if child_ids:
                    collect(child, child_ids)
            plan.append((child, fk_col, ids))

    collect(users_table, [user.id])
    deleted = 0
    for table, fk_col, ids in plan:  # deepest children were appended first
        deleted += rowcount(session.execute(sa.delete(table).where(fk_col.in_(ids))))
    deleted += rowcount(session.execute(sa.delete(users_table).where(users_table.c.id == user.id)))
    session.expunge_all()
    return deleted


def purge_inactive(session: Session, older_than: dt.datetime) -> int:
    """Data minimisation: users not seen since `older_than` are deleted with everything they own."""
    stale = session.execute(sa.select(User).where(col(User.last_seen_at) < older_than)).scalars().all()
    for user in stale:
        delete_user(session, user)
    return len(stale)
