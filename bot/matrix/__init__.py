"""The Matrix transport (matrix-nio): the advisory dialog and reminders in Matrix rooms, also encrypted ones.

A conversation is a room: the dialog's user id is the room id, so a direct chat is one person's
conversation and a group room shares one conversation (see the Matrix section of the project README).
Commands start with "!": Matrix clients claim "/" for their own commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.transport_spec import TransportSpec

if TYPE_CHECKING:
    from bot.conversation import ConversationService
    from bot.outbound import Runtime
    from bot.settings import Settings


def _create_runtime(settings: Settings, service: ConversationService) -> Runtime:
    from bot.matrix.runtime import MatrixRuntime

    return MatrixRuntime(settings, service)


SPEC = TransportSpec(
    name="matrix",
    command_prefix="!",
    setup_hint="MATRIX_HOMESERVER/MATRIX_USER_ID",
    is_configured=lambda settings: settings.matrix_enabled,
    create_runtime=_create_runtime,
    is_person_id=lambda ident: ident.startswith("@") and ":" in ident,  # rooms are !id:server
    person_id_example="matrix:@name:server",
)
