"""The stored state of one conversation.

Validated with pydantic on every load: a state written by an older version, or damaged, is
replaced by a fresh one instead of crashing the turn.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.courses.model import CourseFilter
from knowledge.vocabulary import District, Goal, Sector, Situation

STATE_VERSION = 1


class Step(StrEnum):
    IDLE = "idle"  # nothing asked (new user, or after "abbrechen")
    SITUATION = "situation"
    DISTRICT = "district"
    PLACE = "place"  # a town name that exists in two districts: which one?
    SECTOR = "sector"
    GOAL = "goal"
    RESULTS = "results"


SLOT_STEPS: tuple[Step, ...] = (Step.SITUATION, Step.DISTRICT, Step.SECTOR, Step.GOAL)


class PlaceCandidate(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    district: District


class ConversationState(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    version: int = STATE_VERSION
    step: Step = Step.IDLE
    language: str = "de"
    # where `language` comes from: the client's hint, what the person wrote (knowledge.language), or
    # their own choice with /sprache, which nothing overrides
    language_source: Literal["client", "text", "chosen"] = "client"
    situation: Situation | None = None
    district: District | None = None
    sector: Sector | None = None
    goal: Goal | None = None
    place: str | None = Field(default=None, max_length=80)
    place_candidates: list[PlaceCandidate] = Field(default_factory=list, max_length=6)
    keywords: list[str] = Field(default_factory=list, max_length=12)
    filled: list[Step] = Field(default_factory=list, max_length=8)  # answer order, for "zurück"
    page: int = Field(default=0, ge=0)
    # a feature may park a pending question here (e.g. "confirm_delete"); the dialog ignores it
    pending: str | None = Field(default=None, max_length=40)
    # answers of a multi-step feature dialog (an admin's new event or broadcast draft, ≤ 2,000 chars)
    draft: dict[str, str] = Field(default_factory=dict, max_length=12)
    # who was asked the pending question (a sender id): in a group only that person may answer it
    owner: str | None = Field(default=None, max_length=255)
    # the person this conversation is private with (set on the first private turn). A Matrix room
    # can change members: a later sole member is somebody else and does not get this one's data
    private_with: str | None = Field(default=None, max_length=255)
    # the conversation was private and is shared now: its personal answers were dropped once
    shared: bool = False
    # the live course search's keyword and filters (handlers/courses.py), once courses were shown
    courses: CourseFilter | None = None

    def fresh(self) -> ConversationState:
        """A new conversation that keeps only the language (and where it came from)."""
        return ConversationState(language=self.language, language_source=self.language_source)

    def slot(self, step: Step) -> object:
        return getattr(self, step.value)

    def next_missing(self) -> Step:
        for step in SLOT_STEPS:
            if self.slot(step) is None:
                return step
        return Step.RESULTS

    @classmethod
    def restore(cls, raw: object) -> ConversationState:
        """Best effort: anything unreadable becomes a fresh state, never an exception."""
        if isinstance(raw, dict) and raw.get("version") == STATE_VERSION:
            try:
                return cls.model_validate(raw)
            except ValueError:
                pass
        return cls()

    def dump(self) -> dict[str, object]:
        return self.model_dump(mode="json")

    def clone(self) -> ConversationState:
        """An independent copy. The lists are the only mutable parts (their items are strings, enums
        and frozen models), so copying them is enough; model_copy(deep=True) runs copy.deepcopy over
        everything and took about a third of a typical dialog step."""
        lists = {name: list(value) for name, value in self.__dict__.items() if isinstance(value, list)}
        return self.model_copy(update=lists)
