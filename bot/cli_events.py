"""`bildungslotse events …`: import partner event files, list and cancel events.

A file is validated whole before one row is written (one transaction): a malformed file gives one
clear line and imports nothing. Importing the same file again changes nothing; a changed event is
updated in place, and if its time or place changed (or it was cancelled), the running bot tells
everyone concerned at its next tick.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    import sqlalchemy as sa

    from bot.settings import Settings
events_app = typer.Typer(help="Termine importieren, anzeigen und absagen.", no_args_is_help=True)

STATUS_LABEL = {"planned": "geplant", "changed": "geändert", "cancelled": "abgesagt"}


# bot.cli imports this module to register it, so its helpers are looked up when a command runs
def fail(message: str) -> NoReturn:
    from bot import cli

    cli.fail(message)


def settings_or_exit() -> Settings:
    from bot import cli

    return cli.settings_or_exit()


def engine_or_exit(settings: Settings) -> sa.Engine:
    from bot import cli

    return cli.engine_or_exit(settings)


@events_app.command("import")
def import_events(
    file: Annotated[
        Path | None,
        typer.Argument(help="YAML- oder iCalendar-Datei (.yaml, .yml, .ics)."),
    ] = None,
    examples: Annotated[
        bool,
        typer.Option("--examples", help="Statt einer Datei die Beispieltermine laden (nur für Demos)."),
    ] = False,
) -> None:
    """Termine aus einer Datei laden (nach id/UID: erneutes Laden aktualisiert, verdoppelt nichts)."""
    from db.engine import session_scope
    from db.events import upsert_events
    from db.types import utcnow
    from knowledge.events import bundled_examples_path, load_events_file
    from knowledge.loader import KnowledgeError

    if file is None and not examples:
        fail("Bitte eine Datei angeben (Beispieltermine nur mit --examples, für Demos).")
    if file is not None and examples:
        fail("Entweder eine Datei oder --examples, nicht beides.")
    settings = settings_or_exit()
    path = file or bundled_examples_path()
    try:
        events = load_events_file(path, settings.tz)
    except KnowledgeError as exc:
        fail(f"{exc} – nichts importiert.")
    source = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "ics"
    engine = engine_or_exit(settings)
    try:
        with session_scope(engine) as session:
            report = upsert_events(session, events, utcnow(), source)
    finally:
        engine.dispose()
    line = f"Importiert: {report.added} neu, {report.updated} geändert, {report.unchanged} unverändert."
    if report.notices:
        line += (
            f" {report.notices} Termin(e) mit neuer Zeit, neuem Ort oder Absage:"
            " Abonnenten werden benachrichtigt."
        )
    typer.echo(line)


@events_app.command("list")
def list_events(
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Nur Termine, die noch bevorstehen.")] = False,
) -> None:
    """Termine anzeigen (Beginn in der eingestellten Zeitzone)."""
    from db.engine import session_scope
    from db.events import list_events as query
    from db.types import utcnow

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    try:
        with session_scope(engine) as session:
            events = query(session, utcnow() if upcoming else None)
    finally:
        engine.dispose()
    if not events:
        typer.echo("Keine Termine." if not upcoming else "Keine bevorstehenden Termine.")
        return
    for event in events:
        start = event.starts_at.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M")
        flags = STATUS_LABEL.get(event.status, event.status)
        if event.example:
            flags += ", Beispiel"
        typer.echo(f"{event.id:>4}  {start}  [{flags}]  {event.title}  ({event.uid})")


@events_app.command("cancel")
def cancel(
    ident: Annotated[str, typer.Argument(metavar="ID", help="Nummer aus `events list` oder die id/UID.")],
) -> None:
    """Einen Termin absagen; alle Abonnenten und bereits Erinnerten erhalten eine Absage."""
    from db.engine import session_scope
    from db.events import cancel_event, find_event
    from db.types import utcnow

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    try:
        with session_scope(engine) as session:
            event = find_event(session, ident)
            if event is None:
                fail(f"Termin '{ident}' nicht gefunden.")
            changed = cancel_event(session, event, utcnow())
            title = event.title
    finally:
        engine.dispose()
    if changed:
        typer.echo(f"Abgesagt: {title}. Die Absage geht beim nächsten Takt des Bots an alle Betroffenen.")
    else:
        typer.echo(f"{title} war bereits abgesagt.")
