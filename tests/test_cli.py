"""The operator's and the demo user's view: the `bildungslotse` command in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(
    *args: str, env: dict[str, str] | None = None, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_", "DATABASE_"))
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_piped_console_chat_numbers_pick_options_and_exit_at_eof(sqlite_url: str) -> None:
    result = cli("chat", "--user", "demo", env={"DATABASE_URL": sqlite_url}, stdin="2\nUelzen\n1\n1\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1) Arbeitgeber / Betrieb" in out
    assert "In welchem Landkreis" in out
    assert "Das passt zu Ihnen" in out
    assert "Traceback" not in out + result.stderr


def test_console_resumes_the_named_conversation(sqlite_url: str) -> None:
    env = {"DATABASE_URL": sqlite_url}
    cli("chat", "--user", "anna", env=env, stdin="Ich bin Arbeitgeber\n")
    again = cli("chat", "--user", "anna", env=env, stdin="")
    assert "Willkommen zurück" in again.stdout and "Landkreis" in again.stdout
    other = cli("chat", "--user", "ben", env=env, stdin="")
    assert "Willkommen zurück" not in other.stdout


def test_knowledge_check_and_load(sqlite_url: str, tmp_path: Path) -> None:
    ok = cli("knowledge", "check")
    assert ok.returncode == 0 and "Angebote" in ok.stdout
    first = cli("knowledge", "load", env={"DATABASE_URL": sqlite_url})
    second = cli("knowledge", "load", env={"DATABASE_URL": sqlite_url})
    assert first.returncode == 0 and second.returncode == 0
    assert "0 neu, 0 geändert" in second.stdout
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sources.yaml").write_text("sources: 3\n", encoding="utf-8")
    failed = cli("knowledge", "load", str(bad), env={"DATABASE_URL": sqlite_url})
    assert failed.returncode == 1
    assert "sources.yaml" in failed.stderr and "nichts importiert" in failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"REMINDER_LEAD_TIMES": "7x"}, "REMINDER_LEAD_TIMES"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_a_bad_setting_stops_with_one_line_naming_it(env: dict[str, str], name: str) -> None:
    result = cli("db", "upgrade", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0]


def test_unreachable_database_is_one_clear_line() -> None:
    result = cli("db", "upgrade", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Datenbank nicht erreichbar" in lines[0]


def test_run_without_any_messenger_says_what_to_set(sqlite_url: str) -> None:
    result = cli("run", env={"DATABASE_URL": sqlite_url})
    assert result.returncode == 1
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_knowledge_verify_records_who_and_survives_a_reload(sqlite_url: str) -> None:
    env = {"DATABASE_URL": sqlite_url}
    assert cli("knowledge", "load", env=env).returncode == 0
    done = cli("knowledge", "verify", "bab", "--by", "Anna Muster", env=env)
    assert done.returncode == 0, done.stderr
    assert "Geprüft: bab von Anna Muster" in done.stdout
    missing = cli("knowledge", "verify", "gibt_es_nicht", "--by", "Anna Muster", env=env)
    assert missing.returncode == 1 and "gibt_es_nicht" in missing.stderr
    assert cli("knowledge", "load", env=env).returncode == 0  # a reload keeps the person's check
    audit = cli("admin", "audit", env=env)
    assert "offer_verified" in audit.stdout and '"offer": "bab"' in audit.stdout
    assert '"verified_by": "Anna Muster"' in audit.stdout
    from sqlmodel import Session

    from db.engine import make_engine
    from db.offer_store import read_offer_base

    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        stored = {o.id: o for o in read_offer_base(session).offers}
    engine.dispose()
    assert stored["bab"].verified_by == "Anna Muster" and stored["bab"].verified_on is not None
    assert stored["bildungsgutschein"].verified_on is None
