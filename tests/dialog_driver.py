"""Drives the pure dialog like a user would: buttons by label, free text, commands."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.transports import command_prefixes
from handlers import dialog
from handlers.state import ConversationState
from handlers.turn import Option, Reply, Turn, TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import make_turn


@dataclass
class DialogDriver:
    kb: KnowledgeBase
    transport: str = "console"
    user: str = "u1"
    state: ConversationState = field(default_factory=ConversationState)
    replies: list[Reply] = field(default_factory=list)
    extras: tuple[tuple[str, str], ...] = ()

    def _run(self, turn: Turn) -> list[Reply]:
        ctx = dialog.DialogContext(kb=self.kb, result_extras=self.extras, command_prefix=command_prefixes())
        self.state, self.replies = dialog.step(self.state, turn, ctx)
        return self.replies

    def command(self, name: str) -> list[Reply]:
        return self._run(make_turn(self.transport, self.user, TurnKind.COMMAND, command=name))

    def text(self, text: str) -> list[Reply]:
        return self._run(make_turn(self.transport, self.user, TurnKind.TEXT, text=text))

    def option(self, option_id: str) -> list[Reply]:
        return self._run(make_turn(self.transport, self.user, TurnKind.OPTION, option_id=option_id))

    def location(self, lat: float, lon: float) -> list[Reply]:
        return self._run(make_turn(self.transport, self.user, TurnKind.LOCATION, lat=lat, lon=lon))

    def unsupported(self) -> list[Reply]:
        return self._run(make_turn(self.transport, self.user, TurnKind.UNSUPPORTED))

    def current(self) -> ConversationState:
        """The state after the last turn. A call, not the attribute: mypy would keep an asserted
        `state.step is X` narrowed across the next turn and call the next check impossible."""
        return self.state

    # --- what the user sees ---
    @property
    def text_out(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def options(self) -> list[Option]:
        return [o for r in self.replies for o in r.options]

    def option_ids(self) -> list[str]:
        return [o.id for o in self.options]

    def press(self, label_part: str) -> list[Reply]:
        """Presses the first visible button whose label contains `label_part`."""
        wanted = label_part.lower()
        for test in (str.__eq__, str.startswith, str.__contains__):
            for option in self.options:
                if test(option.label.lower(), wanted):
                    return self.option(option.id)
        raise AssertionError(
            f"no button containing {label_part!r}; visible: {[o.label for o in self.options]}"
        )

    def question(self) -> Reply | None:
        return next((r for r in reversed(self.replies) if r.question), None)

    def offer_cards(self) -> list[Reply]:
        return [r for r in self.replies if any(o.id.startswith("offer:") for o in r.options)]

    def offer_ids(self) -> list[str]:
        return [
            o.id.removeprefix("offer:")
            for r in self.offer_cards()
            for o in r.options
            if o.id.startswith("offer:")
        ]
