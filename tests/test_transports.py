"""The transport registry: a transport that is one spec in `bot.transports` runs like the built-in ones."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from bot import runner, transports
from bot.app import open_database
from bot.conversation import ConversationService
from bot.outbound import DeliveryResult, DeliveryStatus
from bot.settings import Settings, load_settings
from bot.transport_spec import TransportSpec
from handlers.turn import Reply, TurnKind
from tests.turns import make_turn

FAX_USER = "+49 4131 1"


class FaxSender:
    transport = "fax"

    async def send(
        self, external_id: str, replies: Sequence[Reply], *, personal: bool = False
    ) -> DeliveryResult:
        return DeliveryResult(DeliveryStatus.SENT)


class FaxRuntime:
    """Asks for help once it is up, notes what it saw, and asks `run` to stop."""

    log: list[str]
    stop_run: asyncio.Event

    def __init__(self, settings: Settings, service: ConversationService) -> None:
        self.sender = FaxSender()
        self.service = service

    async def start(self) -> None:
        replies = await self.service.handle(make_turn("fax", FAX_USER, TurnKind.COMMAND, command="hilfe"))
        self.log.append("#termine" if "#termine" in replies[0].text else replies[0].text)
        self.stop_run.set()

    async def stop(self) -> None:
        self.log.append("stopped")

    def connected(self) -> bool:  # for /healthz
        return True


FAX = TransportSpec(
    name="fax",
    command_prefix="#",
    setup_hint="FAX_NUMBER",
    is_configured=lambda settings: settings.database_url.startswith("sqlite"),
    create_runtime=FaxRuntime,
)


@pytest.fixture(autouse=True)
def no_messenger_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "MATRIX_HOMESERVER", "MATRIX_USER_ID", "ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)


def test_every_transport_has_its_own_name_and_one_prefix() -> None:
    names = [spec.name for spec in transports.TRANSPORTS]
    assert len(names) == len(set(names)) == len(transports.names())
    assert transports.command_prefix("matrix") == "!" and transports.command_prefix("telegram") == "/"


async def test_a_fourth_transport_is_one_registry_line(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transports, "TRANSPORTS", (*transports.TRANSPORTS, FAX))
    monkeypatch.setattr(FaxRuntime, "log", [], raising=False)
    stop = asyncio.Event()
    monkeypatch.setattr(FaxRuntime, "stop_run", stop, raising=False)
    settings = load_settings(
        _env_file=None, database_url=sqlite_url, admin_ids=f"fax:{FAX_USER}", http_port=0
    )
    engine = open_database(settings)
    try:
        await asyncio.wait_for(runner.serve(settings, engine, stop), 30)
    finally:
        engine.dispose()
    # started by `run` (the only one configured), speaks its own prefix, stopped again
    assert FaxRuntime.log == ["#termine", "stopped"]
    assert settings.admins == {("fax", FAX_USER)}  # ADMIN_IDS knows it too


def test_run_names_what_each_transport_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transports, "TRANSPORTS", (*transports.TRANSPORTS, FAX))
    settings = load_settings(_env_file=None, database_url="postgresql://nowhere/x")
    with pytest.raises(runner.NothingConfigured) as err:
        runner.run_transports(settings, sa.create_engine("sqlite://"))
    assert str(err.value) == (
        "Kein Messenger konfiguriert: "
        "TELEGRAM_BOT_TOKEN oder MATRIX_HOMESERVER/MATRIX_USER_ID oder FAX_NUMBER setzen."
    )
