"""The Telegram transport (python-telegram-bot): updates -> Turns, Replies -> messages, outbound sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.transport_spec import TransportSpec

if TYPE_CHECKING:
    from bot.conversation import ConversationService
    from bot.outbound import Runtime
    from bot.settings import Settings


def _create_runtime(settings: Settings, service: ConversationService) -> Runtime:
    from bot.telegram.runtime import TelegramRuntime

    return TelegramRuntime(settings, service)


SPEC = TransportSpec(
    name="telegram",
    command_prefix="/",
    setup_hint="TELEGRAM_BOT_TOKEN",
    is_configured=lambda settings: settings.telegram_enabled,
    create_runtime=_create_runtime,
    is_person_id=str.isdigit,  # users have positive ids; groups and channels negative ones
    person_id_example="telegram:<user id>",
)
