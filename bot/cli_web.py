"""`bildungslotse web`: serve the partner console, and manage its personal accounts.

`web` alone starts the console (uvicorn) on WEB_HOST:WEB_PORT; `web user add|disable|reset|list`
is how the first admin (and any later account) is made from the shell. Passwords are typed twice
without echo, or read from stdin (`--password-stdin`, for scripts), never taken from an argument
where they would end up in the shell history.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

web_app = typer.Typer(help="Partner-Konsole (Web) starten und Konten verwalten.", invoke_without_command=True)
user_app = typer.Typer(help="Persönliche Konten der Partner-Konsole.", no_args_is_help=True)
web_app.add_typer(user_app, name="user")

StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Passwort aus der Standardeingabe lesen.")]


@web_app.callback()
def serve(ctx: typer.Context) -> None:
    """Die Partner-Konsole starten (WEB_HOST, WEB_PORT, WEB_SECRET_KEY, WEB_BASE_URL)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from bot.cli import engine_or_exit, fail, settings_or_exit
    from bot.clock import system_clock
    from bot.logs import configure_logging
    from bot.partner_console.app import create_app

    settings = settings_or_exit()
    secret = settings.web_secret_key.get_secret_value() if settings.web_secret_key else ""
    if len(secret) < 32:
        fail("WEB_SECRET_KEY fehlt oder ist kürzer als 32 Zeichen (siehe .env.example).", 2)
    configure_logging(settings)
    engine = engine_or_exit(settings)
    app = create_app(
        engine,
        secret,
        tz=settings.tz,
        clock=system_clock,
        secure_cookies=settings.web_base_url.startswith("https://"),
        offer_refresh_seconds=settings.offer_refresh_seconds,
    )
    typer.echo(
        f"Partner-Konsole: {settings.web_base_url} (lauscht auf {settings.web_host}:{settings.web_port})"
    )
    uvicorn.run(app, host=settings.web_host, port=settings.web_port, log_level="warning", proxy_headers=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Passwort", hide_input=True, confirmation_prompt="Passwort wiederholen"))


@user_app.command("add")
def user_add(
    login: Annotated[str, typer.Argument(help="Anmeldename (persönlich, z. B. vorname.nachname).")],
    role: Annotated[str, typer.Option("--role", help="admin oder editor.")] = "editor",
    institution: Annotated[
        list[str] | None, typer.Option("--institution", "-i", help="Einrichtungs-id (mehrfach möglich).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Anzeigename.")] = "",
    password_stdin: StdinOpt = False,
) -> None:
    """Ein persönliches Konto anlegen (Rolle admin, oder editor für eine oder mehrere Einrichtungen)."""
    from bot.cli import engine_or_exit, fail, settings_or_exit
    from bot.clock import system_clock
    from db import audit
    from db.console_accounts import AccountError, Role, add_account
    from db.engine import session_scope
    from db.models import InstitutionRecord

    if role not in {r.value for r in Role}:
        fail("--role ist admin oder editor.", 2)
    engine = engine_or_exit(settings_or_exit())
    try:
        with session_scope(engine) as session:
            unknown = [i for i in institution or [] if session.get(InstitutionRecord, i) is None]
            if unknown:
                fail(f"Unbekannte Einrichtung(en): {', '.join(unknown)} (siehe institutions.yaml).")
            password = _password(password_stdin)
            account = add_account(
                session, login, password, Role(role), list(institution or []), system_clock(), name=name
            )
            audit.record(session, f"cli:{getpass.getuser()}", "web_user_add", login=account.login, role=role)
    except AccountError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"Konto angelegt: {account.login} ({role}).")


def _change(login: str, action: str, password_stdin: bool = False) -> None:
    from bot.cli import engine_or_exit, fail, settings_or_exit
    from bot.clock import system_clock
    from db import audit
    from db.console_accounts import AccountError, disable, get_by_login, set_password
    from db.engine import session_scope

    engine = engine_or_exit(settings_or_exit())
    try:
        with session_scope(engine) as session:
            account = get_by_login(session, login)
            if account is None:
                fail(f"Kein Konto '{login}'.")
            if action == "disable":
                disable(session, account, system_clock())
            else:
                set_password(session, account, _password(password_stdin), system_clock())
                account.active = True
            audit.record(session, f"cli:{getpass.getuser()}", f"web_user_{action}", login=account.login)
    except AccountError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


@user_app.command("disable")
def user_disable(login: Annotated[str, typer.Argument(help="Anmeldename.")]) -> None:
    """Ein Konto sperren; alle offenen Sitzungen enden sofort."""
    _change(login, "disable")
    typer.echo(f"Konto gesperrt: {login}.")


@user_app.command("reset")
def user_reset(
    login: Annotated[str, typer.Argument(help="Anmeldename.")], password_stdin: StdinOpt = False
) -> None:
    """Ein neues Passwort setzen (entsperrt das Konto, beendet alle offenen Sitzungen)."""
    _change(login, "reset", password_stdin)
    typer.echo(f"Neues Passwort gesetzt: {login}.")


@user_app.command("list")
def user_list() -> None:
    """Alle Konten mit Rolle, Einrichtungen und Zustand."""
    from bot.cli import engine_or_exit, settings_or_exit
    from db.console_accounts import list_accounts
    from db.engine import session_scope

    engine = engine_or_exit(settings_or_exit())
    with session_scope(engine) as session:
        for a in list_accounts(session):
            state = "aktiv" if a.active else "gesperrt"
            typer.echo(f"{a.login}\t{a.role}\t{','.join(a.institutions) or '-'}\t{state}")
    engine.dispose()
