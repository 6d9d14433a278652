"""Commands and buttons beyond the advisory dialog (events, subscriptions, privacy, admin).

They need the database, so they are not part of the pure dialog: each feature registers its
commands, option-id prefixes and pending-question keys here, and the conversation service runs
the handler inside the same transaction that stores the state.

Work that must wait for the network (the live course search) is never done inside that
transaction: a handler or a follow-up of the dialog only *defers* a request object
(`FeatureContext.defer`), and the conversation service resolves it after the turn is stored and
the per-user lock is released (`bot/conversation.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from db.models import User
from handlers.catalogue import t
from handlers.feature_settings import FeatureSettings
from handlers.state import ConversationState
from handlers.turn import Reply, Turn, TurnKind
from knowledge.base import KnowledgeBase


@dataclass
class FeatureContext:
    turn: Turn
    session: Session
    user: User
    state: ConversationState  # mutable: saved after the handler returns
    kb: KnowledgeBase
    settings: FeatureSettings
    command_prefix: str = "/"
    # set by a handler (e.g. /loeschen) when the user and all their rows are gone: do not save state
    user_deleted: bool = False
    # requests resolved after the turn is stored (network work, e.g. a course search)
    deferred: list[object] = field(default_factory=list)

    def defer(self, request: object) -> None:
        self.deferred.append(request)

    @property
    def lang(self) -> str:
        return self.state.language

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, p=self.command_prefix, **params)

    def is_admin(self) -> bool:
        return is_admin(self.settings, self.turn)

    @property
    def private(self) -> bool:
        """A 1:1 chat with the sender (handlers.ownership.bind_person): personal data may be shown."""
        return self.turn.private and self.state.private_with == self.turn.sender_id

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: transport and the person's external id."""
        return f"{self.turn.transport}:{self.turn.sender_id}"


def is_admin(settings: FeatureSettings, turn: Turn) -> bool:
    """Admin rights belong to a person (the sender), never to a group chat or room."""
    return (turn.transport, turn.sender_id) in settings.admins


def not_yours(ctx: FeatureContext) -> list[Reply]:
    """A button of a question asked to somebody else in the group: ignored without a word, so the
    question stays on screen for its owner (an answer would replace it on Telegram)."""
    return []


FeatureHandler = Callable[[FeatureContext], list[Reply]]


@dataclass
class FollowupContext:
    """After a pure dialog step: the state before and after (mutable: saved afterwards)."""

    turn: Turn
    before: ConversationState
    state: ConversationState
    kb: KnowledgeBase
    settings: FeatureSettings
    command_prefix: str = "/"
    deferred: list[object] = field(default_factory=list)

    def defer(self, request: object) -> None:
        self.deferred.append(request)


Followup = Callable[[FollowupContext], None]


@dataclass
class FeatureRegistry:
    commands: dict[str, FeatureHandler] = field(default_factory=dict)
    option_prefixes: dict[str, FeatureHandler] = field(default_factory=dict)
    pending: dict[str, FeatureHandler] = field(default_factory=dict)
    # extra buttons below advisory results: (option id, catalogue key of the label)
    result_extras: list[tuple[str, str]] = field(default_factory=list)
    # commands, option prefixes and pending keys only admins reach; for everyone else they do not exist
    admin_only: set[str] = field(default_factory=set)
    # option prefixes that answer a pending question: only its owner may press them (pending answers
    # always belong to the owner)
    owned: set[str] = field(default_factory=set)
    # called after every advisory dialog step (e.g. to defer a course search once results are shown)
    followups: list[Followup] = field(default_factory=list)

    def command(self, *names: str, admin: bool = False) -> Callable[[FeatureHandler], FeatureHandler]:
        def deco(fn: FeatureHandler) -> FeatureHandler:
            for name in names:
                self.commands[name] = fn
                if admin:
                    self.admin_only.add(f"cmd:{name}")
            return fn

        return deco

    def options(
        self, prefix: str, admin: bool = False, owned: bool = False
    ) -> Callable[[FeatureHandler], FeatureHandler]:
        def deco(fn: FeatureHandler) -> FeatureHandler:
            self.option_prefixes[prefix] = fn
            if admin:
                self.admin_only.add(f"opt:{prefix}")
            if owned:
                self.owned.add(f"opt:{prefix}")
            return fn

        return deco

    def on_pending(self, key: str, admin: bool = False) -> Callable[[FeatureHandler], FeatureHandler]:
        def deco(fn: FeatureHandler) -> FeatureHandler:
            self.pending[key] = fn
            if admin:
                self.admin_only.add(f"pending:{key}")
            return fn

        return deco

    def followup(self, fn: Followup) -> Followup:
        if fn not in self.followups:
            self.followups.append(fn)
        return fn

    def result_extra(self, option_id: str, label_key: str) -> None:
        if (option_id, label_key) not in self.result_extras:
            self.result_extras.append((option_id, label_key))

    def resolve(self, turn: Turn, state: ConversationState, admin: bool = False) -> FeatureHandler | None:
        if turn.kind is TurnKind.COMMAND:
            key, handler = f"cmd:{turn.command.lower()}", self.commands.get(turn.command.lower())
        elif turn.kind is TurnKind.OPTION:
            prefix = turn.option_id.partition(":")[0]
            key, handler = f"opt:{prefix}", self.option_prefixes.get(prefix)
        elif state.pending and turn.kind is TurnKind.TEXT:
            pending = state.pending.partition(":")[0]
            key, handler = f"pending:{pending}", self.pending.get(pending)
        else:
            return None
        if state.owner not in (None, turn.sender_id):
            if key.startswith("pending:"):
                return None  # somebody else's question: the text is for the dialog
            if key in self.owned:
                return not_yours
        if key in self.admin_only and not admin:
            return None  # non-admins get exactly what an unknown command or stale button gets
        return handler
