"""Whose turn, whose question, whose chat: what belongs to a person inside a shared conversation.

A group chat or room is one conversation (one state) for all its members, but some things belong
to one person: a question only they were asked (an admin's wizard, a confirmation) and the
personal data of a chat that was private with them. The conversation service calls these around
every turn; the registry (`FeatureRegistry.resolve`) routes others' answers away.
"""

from __future__ import annotations

from handlers.features import FeatureContext, FeatureHandler
from handlers.state import ConversationState
from handlers.turn import Reply, Turn


def bind_person(state: ConversationState, turn: Turn) -> ConversationState:
    """Binds a conversation to the person of its first private turn, and keeps it that way.

    If a Matrix room later holds only the bot and somebody else, that is not a private chat with
    the newcomer. When a person's private conversation turns into a shared one (somebody else
    writes, or the room has more members), its answers are dropped once: the shared dialog starts
    empty and shows nobody the earlier person's profile.
    """
    if state.private_with is None:
        if turn.private:
            state.private_with = turn.sender_id
        return state
    if (turn.private and turn.sender_id == state.private_with) or state.shared:
        return state
    fresh = state.fresh()
    fresh.private_with, fresh.shared = state.private_with, True
    return fresh


def carry_over(before: ConversationState, after: ConversationState, turn: Turn) -> None:
    """What a dialog step (even a restart) must not drop: whose private chat this is, and a question
    pending for somebody else in a group (another member's advisory turn does not end an admin's
    wizard)."""
    after.private_with, after.shared = before.private_with, before.shared
    if before.owner not in (None, turn.sender_id):
        after.pending, after.draft, after.owner = before.pending, dict(before.draft), before.owner


def run_feature(handler: FeatureHandler, ctx: FeatureContext) -> list[Reply]:
    """Runs a handler; a question it leaves pending (or a draft it changed) belongs to the sender."""
    pending, draft = ctx.state.pending, ctx.state.draft
    replies = handler(ctx)
    state = ctx.state
    if state.pending is None:
        state.owner = None
    elif state.pending != pending or state.draft != draft or state.owner is None:
        state.owner = ctx.turn.sender_id
    return replies
