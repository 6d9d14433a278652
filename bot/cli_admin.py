"""`bildungslotse admin …`: operator commands that mirror the partners' admin commands."""

from __future__ import annotations

import getpass
import json

import typer

admin_app = typer.Typer(help="Partner-Administration (Statistik, Protokoll).", no_args_is_help=True)


@admin_app.command("stats")
def stats(as_json: bool = typer.Option(False, "--json", help="Maschinenlesbar ausgeben.")) -> None:
    """Anonyme Summen: Nutzer je Landkreis und Lage, häufigste Ziele, Abos, verschickte Erinnerungen."""
    from bot.cli import engine_or_exit, settings_or_exit
    from db import audit
    from db.engine import session_scope

    engine = engine_or_exit(settings_or_exit())
    with session_scope(engine) as session:
        data = audit.statistics(session)
        audit.record(session, f"cli:{getpass.getuser()}", "statistics")
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Nutzer: {data['users']} (erreichbar: {data['active_users']})")
    groups = (("by_district", "Nach Landkreis"), ("by_situation", "Nach Lage"), ("top_goals", "Ziele"))
    for key, title in groups:
        values = ", ".join(f"{k}: {v}" for k, v in data[key].items()) or "–"
        typer.echo(f"{title}: {values}")
    for key, title in (("subscriptions", "Aktive Abos"), ("reminders_sent", "Verschickte Erinnerungen")):
        if key in data:
            typer.echo(f"{title}: {data[key]}")


@admin_app.command("audit")
def audit_log(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Die letzten Admin-Aktionen (wer, was, wann)."""
    from bot.cli import engine_or_exit, settings_or_exit
    from db import audit
    from db.engine import session_scope

    engine = engine_or_exit(settings_or_exit())
    with session_scope(engine) as session:
        for entry in audit.recent(session, limit):
            detail = json.dumps(entry.detail, ensure_ascii=False)
            typer.echo(f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.actor} {entry.action} {detail}")
    engine.dispose()
