"""The `bildungslotse` command line (typer): chat, run, database and offer-base maintenance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer

from bot.cli_admin import admin_app
from bot.cli_events import events_app
from bot.cli_web import web_app
from bot.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Bildungslotse – Beratungs-Chatbot des Netzwerks „Vernetzte Bildungsräume“.", no_args_is_help=True
)
db_app = typer.Typer(help="Datenbank verwalten.", no_args_is_help=True)
knowledge_app = typer.Typer(help="Angebotsbasis prüfen und laden.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(events_app, name="events")
app.add_typer(admin_app, name="admin")
app.add_typer(web_app, name="web")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"Fehler: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), 2)


def engine_or_exit(settings: Settings, migrate_schema: bool = True) -> sa.Engine:
    from bot.app import StartupError, open_database

    try:
        return open_database(settings, migrate_schema=migrate_schema)
    except StartupError as exc:
        fail(str(exc))


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="Name der Unterhaltung, die fortgesetzt wird.")] = "console",
) -> None:
    """Mit dem Bildungslotsen in der Konsole sprechen (Zeile für Zeile, Zahlen wählen Optionen)."""
    from bot.app import build_service
    from bot.console import run_chat
    from bot.logs import configure_logging
    from bot.offer_refresh import OfferRefresh

    settings = settings_or_exit()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    engine = engine_or_exit(settings)
    service = build_service(settings, engine)
    # a partner's edit (web console, `knowledge load`) reaches this chat as it reaches `run`
    run_chat(service, user, OfferRefresh(service, engine, settings.offer_refresh_seconds))


@app.command()
def run() -> None:
    """Alle konfigurierten Messenger starten (Telegram, Matrix)."""
    from bot.logs import configure_logging
    from bot.runner import run_transports

    settings = settings_or_exit()
    configure_logging(settings)
    engine = engine_or_exit(settings)
    try:
        run_transports(settings, engine)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # one clear line, details in the log
        fail(f"{type(exc).__name__}: {exc}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Datenbankschema auf den neuesten Stand bringen (Alembic)."""
    settings = settings_or_exit()
    engine_or_exit(settings).dispose()
    typer.echo("Datenbank ist auf dem neuesten Stand.")


PathArg = Annotated[
    Path | None, typer.Argument(help="Verzeichnis mit offers.yaml, institutions.yaml, sources.yaml")
]


@knowledge_app.command("check")
def knowledge_check(path: PathArg = None) -> None:
    """Angebotsdateien prüfen, ohne etwas zu schreiben."""
    from knowledge.loader import KnowledgeError, load_offer_base

    try:
        base = load_offer_base(path)
    except KnowledgeError as exc:
        fail(str(exc))
    typer.echo(
        f"OK: {len(base.offers)} Angebote, {len(base.institutions)} Einrichtungen, "
        f"{len(base.sources)} Quellen."
    )


@knowledge_app.command("load")
def knowledge_load(
    path: PathArg = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Auch in der Partner-Konsole bearbeitete Einträge überschreiben."),
    ] = False,
) -> None:
    """Angebotsdateien prüfen und in die Datenbank laden (nach id; zweimal laden ändert nichts).

    In der Partner-Konsole bearbeitete Einträge bleiben erhalten und werden als Konflikt gemeldet."""
    from db.engine import session_scope
    from db.offer_store import upsert_offer_base
    from knowledge.loader import KnowledgeError, load_offer_base

    try:
        base = load_offer_base(path)
    except KnowledgeError as exc:
        fail(f"{exc} – nichts importiert.")
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with session_scope(engine) as session:
        report = upsert_offer_base(session, base, overwrite=overwrite)
    engine.dispose()
    typer.echo(
        f"Geladen: {report.added} neu, {report.updated} geändert, {report.unchanged} unverändert, "
        f"{report.removed} entfernt."
    )
    if report.conflicts:
        typer.echo(
            f"Konflikte: {len(report.conflicts)} in der Partner-Konsole bearbeitete Einträge weichen von den "
            f"Dateien ab und wurden NICHT überschrieben: {', '.join(report.conflicts)}.\n"
            "Übernehmen Sie die Änderungen mit `bildungslotse knowledge export` in die Dateien, "
            "oder überschreiben Sie sie bewusst mit `--overwrite`.",
            err=True,
        )
        raise typer.Exit(3)


@knowledge_app.command("export")
def knowledge_export(
    target: Annotated[Path, typer.Argument(help="Zielverzeichnis für offers.yaml und institutions.yaml.")],
) -> None:
    """Die Angebotsbasis aus der Datenbank (der maßgeblichen Fassung) als YAML-Dateien schreiben."""
    import shutil

    import yaml

    from db.engine import session_scope
    from db.offer_store import export_offer_base
    from knowledge.loader import INSTITUTIONS_FILE, OFFERS_FILE, SOURCES_FILE, bundled_data_dir

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    with session_scope(engine) as session:
        offers, institutions = export_offer_base(session)
    engine.dispose()
    target.mkdir(parents=True, exist_ok=True)
    for name, key, rows in (
        (OFFERS_FILE, "offers", offers),
        (INSTITUTIONS_FILE, "institutions", institutions),
    ):
        text = yaml.safe_dump({key: rows}, allow_unicode=True, sort_keys=False, width=110)
        (target / name).write_text(text, encoding="utf-8")
    if not (target / SOURCES_FILE).exists():  # sources are not kept in the database: the bundled list
        shutil.copy(bundled_data_dir() / SOURCES_FILE, target / SOURCES_FILE)
    typer.echo(f"Exportiert: {len(offers)} Angebote, {len(institutions)} Einrichtungen nach {target}.")


@knowledge_app.command("verify")
def knowledge_verify(
    ident: Annotated[str, typer.Argument(metavar="ID", help="id des Angebots (aus offers.yaml).")],
    by: Annotated[str | None, typer.Option("--by", help="Wer geprüft hat (Standard: Benutzername).")] = None,
) -> None:
    """Eine persönliche Prüfung eines Angebots festhalten (wer, wann; im Angebot und im Protokoll)."""
    import getpass

    from db.engine import session_scope
    from db.offer_store import verify_offer
    from db.types import utcnow

    name = (by or getpass.getuser()).strip()
    if not name:
        fail("--by darf nicht leer sein.")
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    try:
        with session_scope(engine) as session:
            actor = f"cli:{getpass.getuser()}"
            found = verify_offer(session, ident, name, utcnow(), settings.tz, actor=actor)
    finally:
        engine.dispose()
    if not found:
        fail(f"Angebot '{ident}' nicht in der Datenbank (erst `bildungslotse knowledge load`).")
    typer.echo(
        f"Geprüft: {ident} von {name}. Laufende Bot-Prozesse zeigen das Prüfdatum "
        f"spätestens nach {settings.offer_refresh_seconds} s (OFFER_REFRESH_SECONDS)."
    )


def main() -> None:  # pragma: no cover - console entry for `python -m bot.cli`
    app(prog_name="bildungslotse")
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
