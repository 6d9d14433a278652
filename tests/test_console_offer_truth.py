"""Which is the truth once partners edit offers in the console: the database. `knowledge load`
keeps console edits and reports them as conflicts; `knowledge export` lets the files catch up.
Also: the operator's commands for console accounts, and the statistics' small-cell rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from bot.partner_console import stats
from db.console_accounts import get_by_login
from db.engine import make_engine, session_scope
from db.models import OfferRecord, Profile, User
from db.offer_store import edit_offer, export_offer_base, upsert_offer_base
from knowledge.loader import load_offer_base
from tests.console_support import BERLIN, NOW, PASSWORD
from tests.test_cli import cli


def _first_offer(engine: sa.Engine) -> str:
    with session_scope(engine) as session:
        upsert_offer_base(session, load_offer_base())
        return session.exec(select(OfferRecord.id).order_by(OfferRecord.id)).first() or ""


def test_a_console_edit_survives_knowledge_load_as_a_reported_conflict(engine: sa.Engine) -> None:
    ident = _first_offer(engine)
    with session_scope(engine) as session:
        row = session.get(OfferRecord, ident)
        assert row is not None
        edit_offer(session, row, {"summary": "Neu aus der Konsole."}, NOW, "web:ida")
    with session_scope(engine) as session:
        report = upsert_offer_base(session, load_offer_base())
    assert report.conflicts == (ident,) and report.updated == 0
    with session_scope(engine) as session:
        row = session.get(OfferRecord, ident)
        assert row is not None and row.data["summary"] == "Neu aus der Konsole."
    with session_scope(engine) as session:
        forced = upsert_offer_base(session, load_offer_base(), overwrite=True)
    assert forced.conflicts == () and forced.updated == 1
    with session_scope(engine) as session:
        row = session.get(OfferRecord, ident)
        assert row is not None and row.data["summary"] != "Neu aus der Konsole." and row.edited_at is None


def test_exported_files_are_valid_and_loading_them_clears_the_conflict(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    ident = _first_offer(engine)
    with session_scope(engine) as session:
        row = session.get(OfferRecord, ident)
        assert row is not None
        edit_offer(session, row, {"next_step": "Rufen Sie die Kammer an."}, NOW, "web:ida")
    engine.dispose()
    env = {"DATABASE_URL": sqlite_url}
    conflict = cli("knowledge", "load", env=env)
    assert conflict.returncode == 3 and ident in conflict.stderr and "--overwrite" in conflict.stderr
    exported = cli("knowledge", "export", str(tmp_path / "export"), env=env)
    assert exported.returncode == 0, exported.stderr
    base = load_offer_base(tmp_path / "export")  # the files validate like the bundled ones
    assert next(o for o in base.offers if o.id == ident).next_step == "Rufen Sie die Kammer an."
    again = cli("knowledge", "load", str(tmp_path / "export"), env=env)
    assert again.returncode == 0 and "0 geändert" in again.stdout and "Konflikt" not in again.stderr
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        row = session.get(OfferRecord, ident)
        assert row is not None and row.edited_at is None
        assert export_offer_base(session)[0]  # offers, without persons' checks
    engine.dispose()


def test_operator_adds_disables_and_resets_console_accounts(sqlite_url: str) -> None:
    env = {"DATABASE_URL": sqlite_url}
    assert cli("knowledge", "load", env=env).returncode == 0
    short = cli(
        "web",
        "user",
        "add",
        "ida",
        "--role",
        "editor",
        "-i",
        "ihk_lueneburg_wolfsburg",
        "--password-stdin",
        env=env,
        stdin="kurz\n",
    )
    assert short.returncode == 1 and "mindestens 12 Zeichen" in short.stderr
    unknown = cli(
        "web", "user", "add", "ida", "-i", "gibt_es_nicht", "--password-stdin", env=env, stdin=PASSWORD
    )
    assert unknown.returncode == 1 and "gibt_es_nicht" in unknown.stderr
    added = cli(
        "web",
        "user",
        "add",
        "Ida",
        "--role",
        "editor",
        "-i",
        "ihk_lueneburg_wolfsburg",
        "--password-stdin",
        env=env,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert cli("web", "user", "disable", "ida", env=env).returncode == 0
    listed = cli("web", "user", "list", env=env).stdout
    assert "ida\teditor\tihk_lueneburg_wolfsburg\tgesperrt" in listed
    reset = cli("web", "user", "reset", "ida", "--password-stdin", env=env, stdin="ein-ganz-neues-passwort\n")
    assert reset.returncode == 0
    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        account = get_by_login(session, "ida")
        assert account is not None and account.active and account.session_version == 3
    engine.dispose()
    no_key = cli("web", env=env)
    assert no_key.returncode == 2 and "WEB_SECRET_KEY" in no_key.stderr


def test_statistics_never_show_a_cell_under_five_nor_a_total_that_reveals_one(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        for i in range(8):
            user = User(transport="telegram", external_id=str(i))
            session.add(user)
            session.flush()
            assert user.id is not None
            district = "uelzen" if i < 6 else "harburg"
            session.add(
                Profile(
                    user_id=user.id,
                    district=district,
                    situation="schule",
                    goal="ausbildung",
                    updated_at=NOW - dt.timedelta(days=1),
                )
            )
    with session_scope(engine) as session:
        tables = {t.key: t for t in stats.all_tables(session, NOW, BERLIN)}
    districts = stats.as_csv(tables["landkreise"]).splitlines()
    assert districts == ["Wert;Anzahl", "Landkreis Uelzen;6", "Landkreis Harburg;< 5"]
    assert tables["landkreise"].chart == (("Landkreis Uelzen", 6),)
    weekly = tables["wochen"]
    assert weekly.rows == (("2027-KW08", "< 5", "6"),) and weekly.chart == (("2027-KW08", 6),)
    # no offers loaded: everything asked for is a gap of the network
    assert tables["luecken"].rows == (
        ("Ausbildung", "Landkreis Uelzen", "6"),
        ("Ausbildung", "Landkreis Harburg", "< 5"),
    )
