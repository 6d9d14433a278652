"""Partner administration: admin-only commands, anonymous statistics, audit trail."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import Session

from bot.app import build_features
from bot.conversation import ConversationService
from bot.settings import load_settings
from db.audit import AuditEntry
from db.engine import make_engine
from handlers.turn import Turn, TurnKind
from knowledge.base import KnowledgeBase
from tests.test_cli import cli

ADMIN = "telegram:4711"


def _service(url: str, kb: KnowledgeBase) -> ConversationService:
    settings = load_settings(_env_file=None, admin_ids=f"{ADMIN},matrix:@ann:example.org")
    return ConversationService(make_engine(url), kb, settings, build_features(settings))


def _cmd(service: ConversationService, user: str, name: str) -> list[str]:
    return [r.text for r in service.handle_sync(Turn("telegram", user, TurnKind.COMMAND, command=name))]


def _populate(service: ConversationService) -> None:
    answers = (("1", "Pflegekraft aus Uelzen, ich will mich weiterbilden"), ("2", "Betrieb in Winsen"))
    for uid, text in answers:
        service.handle_sync(Turn("telegram", uid, TurnKind.COMMAND, command="start"))
        service.handle_sync(Turn("telegram", uid, TurnKind.TEXT, text=text))


def test_non_admins_get_the_unknown_command_answer(sqlite_url: str, kb: KnowledgeBase) -> None:
    service = _service(sqlite_url, kb)
    _cmd(service, "1", "start")
    assert _cmd(service, "1", "statistik") == _cmd(service, "1", "gibtesnicht")
    with Session(service.engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_admin_statistics_are_aggregates_and_audited(database_url: str, kb: KnowledgeBase) -> None:
    service = _service(database_url, kb)
    _populate(service)
    text = "\n".join(_cmd(service, "4711", "statistik"))
    assert "Landkreis Uelzen: 1" in text and "Landkreis Harburg: 1" in text
    assert "Arbeitgeber / Betrieb: 1" in text
    assert "4711" not in text and "Nutzer: 3" in text
    with Session(service.engine) as s:
        entries = s.execute(sa.select(AuditEntry)).scalars().all()
    assert [(e.actor, e.action) for e in entries] == [(ADMIN, "statistics")]


def test_cli_admin_stats_as_json(sqlite_url: str, kb: KnowledgeBase) -> None:
    _populate(_service(sqlite_url, kb))
    result = cli("admin", "stats", "--json", env={"DATABASE_URL": sqlite_url})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["users"] == 2 and data["by_district"] == {"uelzen": 1, "harburg": 1}
    audit = cli("admin", "audit", env={"DATABASE_URL": sqlite_url})
    assert "cli:" in audit.stdout and "statistics" in audit.stdout
