"""The advisory conversation as a pure state machine: `step(state, turn, ctx) -> (state, replies)`.

No I/O and no transport imports: the caller loads and stores the state and renders the replies.
Every question accepts a button (option id) or free text; free text may fill several slots at
once, and the dialog then skips what it already knows and says what it understood.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from handlers import render
from handlers.catalogue import normalise_language, t
from handlers.state import SLOT_STEPS, ConversationState, PlaceCandidate, Step
from handlers.turn import Link, Option, Reply, Turn, TurnKind
from knowledge.base import KnowledgeBase
from knowledge.contacts import nearby_contacts
from knowledge.language import detect_language
from knowledge.matching import Match, Profile, closed_asked_for
from knowledge.understanding import Understanding, understand
from knowledge.vocabulary import GOALS_BY_SITUATION, District, Goal, Sector, Situation

PAGE_SIZE = 5
MAX_CONTACTS = 6

COMMAND_ALIASES: dict[str, str] = {
    "start": "start",
    "neu": "start",
    "restart": "start",
    "hilfe": "help",
    "help": "help",
    "zurueck": "back",
    "zurück": "back",
    "back": "back",
    "abbrechen": "cancel",
    "cancel": "cancel",
    "angebote": "results",
    "profil": "profile",
    "resume": "resume",  # sent by transports when a session (re)opens; not advertised
}
SLOT_PREFIX: dict[str, Step] = {
    "sit": Step.SITUATION,
    "dist": Step.DISTRICT,
    "sec": Step.SECTOR,
    "goal": Step.GOAL,
}
SLOT_TYPE: dict[Step, type[Situation] | type[District] | type[Sector] | type[Goal]] = {
    Step.SITUATION: Situation,
    Step.DISTRICT: District,
    Step.SECTOR: Sector,
    Step.GOAL: Goal,
}


@dataclass(frozen=True)
class DialogContext:
    kb: KnowledgeBase
    # option ids of optional features offered at the end of results (e.g. "abo:start")
    result_extras: tuple[tuple[str, str], ...] = ()  # (option id, catalogue key)
    # transport name -> command prefix ("/" when a transport is not listed); the caller knows the transports
    command_prefix: Mapping[str, str] = field(default_factory=dict)


def step(state: ConversationState, turn: Turn, ctx: DialogContext) -> tuple[ConversationState, list[Reply]]:
    dialog = _Dialog(state.clone(), turn, ctx)
    replies = dialog.run()
    return dialog.state, replies


class _Dialog:
    def __init__(self, state: ConversationState, turn: Turn, ctx: DialogContext) -> None:
        self.state = state
        self.turn = turn
        self.ctx = ctx
        self.kb = ctx.kb
        self.out: list[Reply] = []
        # one-tap corrections of what free text filled ("Lage ändern" …): the next slot question
        # shows them below its answers; without one they stay on the "Verstanden" line itself
        self.corrections: tuple[Option, ...] = ()
        self.answered = ""  # the label of the choice a button press answered, shown atop the reply

    # --- helpers -------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.state.language

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, p=self.ctx.command_prefix.get(self.turn.transport, "/"), **params)

    def say(self, key: str, **params: object) -> None:
        self.out.append(Reply(self.t(key, **params)))

    # --- entry ---------------------------------------------------------------------------
    def run(self) -> list[Reply]:
        kind = self.turn.kind
        if kind is TurnKind.COMMAND:
            self.command(self.turn.command.lower())
        elif kind is TurnKind.OPTION:
            self.option(self.turn.option_id)
        elif kind is TurnKind.LOCATION and self.turn.lat is not None and self.turn.lon is not None:
            self.location(self.turn.lat, self.turn.lon)
        elif kind is TurnKind.TEXT:
            self.text(self.turn.text)
        else:
            self.say("unsupported")
            self.ask_current()
        if self.answered and self.out:
            # the reply replaces the question on screen: its first line keeps the answer visible
            first = self.out[0]
            self.out[0] = replace(first, text=f"{self.t('answered', choice=self.answered)}\n\n{first.text}")
        return self.out

    def command(self, name: str) -> None:
        action = COMMAND_ALIASES.get(name)
        if action is None:
            self.say("unknown_command")
            self.ask_current()
        else:
            self.navigate(action)

    def navigate(self, action: str) -> None:
        match action:
            case "start":
                self.restart(welcome=True)
            case "resume":
                if self.state.step is Step.IDLE:
                    self.restart(welcome=True)
                else:
                    self.say("welcome_back")
                    self.ask_current()
            case "help":
                self.say("help")
                self.ask_current()
            case "back":
                self.back()
            case "cancel":
                self.state = self.state.fresh()
                self.say("cancelled")
            case "results":
                if self.state.next_missing() is Step.RESULTS:
                    self.show_results(page=0)
                else:
                    self.say("results.none_yet")
                    self.ask_current()
            case "profile":
                self.show_profile()
            case "more":
                self.show_results(page=self.state.page + 1)
            case "contact":
                self.district_contacts()
            case _:
                self.stale()

    def restart(self, welcome: bool) -> None:
        self.state = self.state.fresh()
        if welcome:
            self.say("welcome")
        self.ask(Step.SITUATION)

    # --- options (buttons / numbers) -----------------------------------------------------
    def option(self, option_id: str) -> None:
        prefix, _, value = option_id.partition(":")
        if prefix in SLOT_PREFIX:
            slot = SLOT_PREFIX[prefix]
            try:
                code = SLOT_TYPE[slot](value)
            except ValueError:
                self.stale()
                return
            self.set_slot(slot, code)
            self.state.place_candidates = []
            self.answered = self.slot_label(slot)
            self.advance()
        elif prefix == "nav" and value in {"back", "start", "help", "more", "results", "contact"}:
            self.navigate(value)
        elif prefix == "offer" and (offer := self.kb.offers_by_id.get(value)):
            self.out.append(
                Reply(
                    render.offer_details(self.lang, self.kb, offer),
                    options=(
                        Option(f"contact:{offer.id}", self.t("option.contact")),
                        Option("nav:results", self.t("option.results")),
                    ),
                    links=(Link(offer.title[:60], str(offer.source_url)),),
                )
            )
        elif prefix == "contact" and (offer := self.kb.offers_by_id.get(value)):
            inst = self.kb.institutions.get(offer.provider)
            if inst is None:
                self.stale()
                return
            text, links = render.institution_contact(self.lang, inst)
            self.out.append(
                Reply(text, options=(Option("nav:results", self.t("option.results")),), links=links)
            )
        elif prefix == "edit" and value in {s.value for s in SLOT_STEPS}:
            slot = Step(value)
            self.clear_slot(slot)
            self.ask(slot)
        else:
            self.stale()

    def stale(self) -> None:
        self.say("stale_option")
        self.ask_current()

    # --- free text -----------------------------------------------------------------------
    def follow_language(self, text: str) -> None:
        """Who writes English is answered in English from now on (and German likewise); a choice
        made with /sprache is never overridden, and short texts ("ok", "Uelzen") never switch."""
        if self.state.language_source == "chosen":
            return
        detected = detect_language(text, self.kb.gazetteer)
        if detected is not None:
            self.state.language = detected
            self.state.language_source = "text"

    def text(self, text: str) -> None:
        if not text.strip():
            self.say("empty_message")
            self.ask_current()
            return
        self.follow_language(text)
        u = understand(text, self.kb.gazetteer)
        if u.intent in ("back", "help", "cancel"):
            self.navigate(u.intent)
            return
        if u.intent == "restart":
            self.navigate("start")
            return
        if u.intent == "more" and self.state.step is Step.RESULTS:
            self.navigate("more")
            return
        was_idle = self.state.step is Step.IDLE
        filled = self.apply(u)
        choice = u.situation_choice if self.state.situation is None else ()
        if not filled and not u.place_candidates and not choice:
            terms = self.kb.search_terms(u.keywords)
            if self.state.step is Step.RESULTS and terms:
                self.state.keywords = list(terms)[:12]
                self.show_results(page=0)
                return
            if was_idle:
                self.restart(welcome=True)
                return
            if u.intent == "yes" and self.state.step is Step.RESULTS:
                self.show_results(page=self.state.page + 1)
                return
            self.say("not_understood")
            self.ask_current()
            return
        understood = self.confirm(u, filled)
        if len(choice) == 2 and not (self.state.place_candidates and self.state.district is None):
            self.ask_either(choice[0], choice[1])
        else:
            self.advance()
        if understood is not None and self.corrections:
            # no slot question took them (results follow, or the either/or question keeps its two
            # buttons): the "Verstanden" line carries them
            self.out[understood] = dataclasses.replace(self.out[understood], options=self.corrections)
        self.corrections = ()

    def ask_either(self, first: Situation, second: Situation) -> None:
        """One short question between the two readings that stayed level, instead of a guess."""
        self.state.step = Step.SITUATION
        options = tuple(
            Option(f"sit:{s.value}", render.label(self.lang, "situation", s)) for s in (first, second)
        )
        self.out.append(Reply(self.t("ask.either"), options=options, question=True))

    def apply(self, u: Understanding) -> list[Step]:
        """Fills every slot the message names; returns the slots that changed."""
        filled: list[Step] = []
        values: dict[Step, object] = {
            Step.SITUATION: u.situation,
            Step.SECTOR: u.sector,
            Step.GOAL: u.goal,
            Step.DISTRICT: District.AUSSERHALB if (u.outside and u.district is None) else u.district,
        }
        if (
            self.state.step is Step.PLACE
            and u.district is None
            and not u.place_candidates
            and u.place is None
        ):
            values[Step.DISTRICT] = None  # keep asking which of the two places is meant
        for slot, value in values.items():
            if value is not None and self.state.slot(slot) != value:
                self.set_slot(slot, value)
                filled.append(slot)
        if u.place:
            self.state.place = u.place[:80]
        if u.place_candidates and u.district is None and Step.DISTRICT not in filled:
            self.state.place = u.place_candidates[0][0][:80]
            self.state.place_candidates = [
                PlaceCandidate(name=name, district=d) for name, d in u.place_candidates[:6]
            ]
        elif Step.DISTRICT in filled:
            self.state.place_candidates = []
        terms = self.kb.search_terms(u.keywords)  # never the user's own words (privacy notice)
        if terms:
            self.state.keywords = list(dict.fromkeys([*self.state.keywords, *terms]))[-12:]
        return filled

    def confirm(self, u: Understanding, filled: list[Step]) -> int | None:
        """Says in one line what the message told us and prepares a correction button per slot.

        Returns the index of that line in the replies (None when nothing was filled)."""
        if not filled:
            return None
        place = u.place or (self.t("postcode.name", postcode=u.postcode) if u.postcode else None)
        parts = []
        for slot in SLOT_STEPS:
            if slot not in filled:
                continue
            label = self.slot_label(slot)
            if slot is Step.DISTRICT and place:
                outside = self.state.district is District.AUSSERHALB
                key = "understood.outside_place" if outside else "understood.district_place"
                label = self.t(key, place=place, district=label)
            parts.append(label)
        line = self.t("understood", summary=self.t("understood.separator").join(parts))
        if Step.DISTRICT in filled and self.state.district is District.AUSSERHALB:
            line = f"{line} {self.t('understood.outside')}"
        self.out.append(Reply(line))
        self.corrections = tuple(
            Option(f"edit:{slot.value}", self.t(f"option.edit_{slot.value}"))
            for slot in SLOT_STEPS
            if slot in filled
        )
        return len(self.out) - 1

    def location(self, lat: float, lon: float) -> None:
        district = self.kb.gazetteer.district_for_location(lat, lon)
        self.set_slot(Step.DISTRICT, district)
        self.state.place_candidates = []
        if district is District.AUSSERHALB:
            self.say("location.outside")
        else:
            self.say("location.inside", district=render.label(self.lang, "district", district))
        self.advance()

    # --- slots and flow ------------------------------------------------------------------
    def set_slot(self, slot: Step, value: object) -> None:
        setattr(self.state, slot.value, value)
        filled = [s for s in self.state.filled if s is not slot]
        self.state.filled = [*filled, slot][-8:]
        if slot is Step.DISTRICT:
            self.state.place_candidates = []

    def clear_slot(self, slot: Step) -> None:
        setattr(self.state, slot.value, None)
        self.state.filled = [s for s in self.state.filled if s is not slot]

    def slot_label(self, slot: Step) -> str:
        return render.label(self.lang, slot.value, self.state.slot(slot))

    def advance(self) -> None:
        if self.state.place_candidates and self.state.district is None:
            self.ask(Step.PLACE)
            return
        nxt = self.state.next_missing()
        if nxt is Step.RESULTS:
            self.show_results(page=0)
        else:
            self.ask(nxt)

    def back(self) -> None:
        if self.state.step is Step.PLACE:
            self.state.place_candidates = []
            self.ask(Step.DISTRICT)
            return
        if not self.state.filled:
            self.say("back.at_start")
            self.ask(Step.SITUATION)
            return
        last = self.state.filled[-1]
        self.clear_slot(last)
        self.ask(last)

    def ask_current(self) -> None:
        current = self.state.step
        if current is Step.IDLE:
            self.say("idle")
        elif current is Step.RESULTS:
            total = self.matches(0)[1]
            self.out.append(self.results_menu(has_more=(self.state.page + 1) * PAGE_SIZE < total))
        else:
            self.ask(current)

    def ask(self, slot: Step) -> None:
        self.state.step = slot
        situation = self.state.situation
        key = f"ask.{slot.value}"
        if situation is Situation.BETRIEB and slot in (Step.DISTRICT, Step.SECTOR, Step.GOAL):
            key += ".betrieb"
        options: list[Option]
        if slot is Step.SITUATION:
            options = [Option(f"sit:{s.value}", render.label(self.lang, "situation", s)) for s in Situation]
        elif slot is Step.DISTRICT:
            options = [Option(f"dist:{d.value}", render.label(self.lang, "district", d)) for d in District]
        elif slot is Step.PLACE:
            options = [
                Option(
                    f"dist:{c.district.value}",
                    f"{c.name} ({render.label(self.lang, 'district', c.district)})",
                )
                for c in self.state.place_candidates
            ]
        elif slot is Step.SECTOR:
            options = [Option(f"sec:{s.value}", render.label(self.lang, "sector", s)) for s in Sector]
        else:
            goals = GOALS_BY_SITUATION.get(situation, tuple(Goal)) if situation else tuple(Goal)
            options = [Option(f"goal:{g.value}", render.label(self.lang, "goal", g)) for g in goals]
        if slot is not Step.PLACE:
            options += [o for o in self.corrections if o.id != f"edit:{slot.value}"]
            self.corrections = ()
        if self.state.filled or slot is Step.PLACE:
            options.append(Option("nav:back", self.t("option.back")))
        text = self.t(key, place=self.state.place or "")
        self.out.append(Reply(text, options=tuple(options), question=True))

    # --- results -------------------------------------------------------------------------
    def profile(self) -> Profile:
        s = self.state
        assert s.situation is not None and s.district is not None
        return Profile(s.situation, s.district, s.sector, s.goal, tuple(s.keywords))

    def matches(self, n: int) -> tuple[list[Match], int]:
        """The first `n` matches and how many there are (a page needs five, not the whole ranking)."""
        return self.kb.ranking.top(self.profile(), n)

    def show_results(self, page: int) -> None:
        if self.state.next_missing() is not Step.RESULTS:
            self.advance()
            return
        self.state.step = Step.RESULTS
        matches, total = self.matches((max(page, 0) + 1) * PAGE_SIZE)
        if total == 0:
            self.state.page = 0
            self.say("results.none")
            closed = self.closed_hint()
            if closed is not None:
                self.out.append(closed)
            self.district_contacts()
            return
        if page * PAGE_SIZE >= total:
            self.state.page = max(0, (total - 1) // PAGE_SIZE)
            self.out.append(self.results_menu(has_more=False, lead=self.t("results.end")))
            return
        self.state.page = page
        first = page * PAGE_SIZE
        self.out.append(self.results_page(matches[first : first + PAGE_SIZE], first, total))

    def results_page(self, chunk: list[Match], first: int, total: int) -> Reply:
        """One message per page: short numbered entries, a numbered button per entry for its
        details (and contact), then the way on; paging replaces this message where it can."""
        parts = [self.t("results.header", first=first + 1, last=first + len(chunk), total=total)]
        parts += [render.offer_entry(self.lang, self.kb, m, i) for i, m in enumerate(chunk, start=first + 1)]
        parts.append(self.t("results.pick"))
        options = [
            Option(f"offer:{m.offer.id}", self.t("option.offer_number", n=i), beside=True)
            for i, m in enumerate(chunk, start=first + 1)
        ]
        if first == 0:
            if self.state.district is District.AUSSERHALB:
                parts.append(self.t("results.outside_hint"))
            closed = self.closed_hint()
            if closed is not None:
                parts.append(closed.text)
                options += closed.options
        menu = self.results_menu(has_more=first + PAGE_SIZE < total)
        return Reply("\n\n".join(parts), options=(*options, *menu.options), question=True)

    def closed_hint(self) -> Reply | None:
        """Asked for by name, a closed programme is named with its status instead of silently missing."""
        closed = closed_asked_for(self.kb.offers, self.profile())
        if not closed:
            return None
        return Reply(
            self.t("offer.closed_hint", titles=", ".join(o.title for o in closed)),
            options=tuple(Option(f"offer:{o.id}", o.title[:60], beside=True) for o in closed),
        )

    def results_menu(self, has_more: bool, lead: str = "") -> Reply:
        options = []
        if has_more:
            options.append(Option("nav:more", self.t("option.more")))
        options.append(Option("nav:contact", self.t("option.district_contact"), beside=True))
        options += [Option(oid, self.t(key), beside=True) for oid, key in self.ctx.result_extras]
        options += [Option("nav:back", self.t("option.back")), Option("nav:start", self.t("option.restart"))]
        text = f"{lead}\n\n{self.t('results.next')}" if lead else self.t("results.next")
        return Reply(text, options=tuple(options), question=True)

    def district_contacts(self) -> None:
        """In or for the user's district first, then what fits their situation and sector, then the
        rest (`knowledge.contacts`); each contact says why it is listed."""
        s = self.state
        district = s.district
        if district is None or district is District.AUSSERHALB:
            header = self.t("contact.outside_header")
        else:
            header = self.t("contact.district_header", district=render.label(self.lang, "district", district))
        contacts = nearby_contacts(
            self.kb.institutions.values(), self.kb.offers, district, s.situation, s.sector, limit=MAX_CONTACTS
        )
        lines = [header]
        links: list[Link] = []
        for contact in contacts:
            text, inst_links = render.nearby_contact(self.lang, contact)
            lines.append(text)
            links.extend(inst_links)
        options = [Option("nav:results", self.t("option.results"))] if self.state.step is Step.RESULTS else []
        options.append(Option("nav:start", self.t("option.restart")))
        self.out.append(Reply("\n\n".join(lines), options=tuple(options), links=tuple(links)))

    def show_profile(self) -> None:
        s = self.state
        if all(s.slot(slot) is None for slot in SLOT_STEPS):
            self.say("profile.header")
            self.say("profile.empty")
            return
        lines = [self.t("profile.header")]
        for slot in SLOT_STEPS:
            value = s.slot(slot)
            shown = (
                render.label(self.lang, slot.value, value) if value is not None else self.t("profile.unset")
            )
            lines.append(self.t("profile.line", label=self.t(f"profile.label.{slot.value}"), value=shown))
        lines.append(self.t("profile.change"))
        options = tuple(
            Option(f"edit:{slot.value}", self.t(f"option.edit_{slot.value}")) for slot in SLOT_STEPS
        )
        self.out.append(Reply("\n".join(lines), options=options, question=True))


def with_language(state: ConversationState, hint: str | None) -> ConversationState:
    """A brand-new conversation takes the client's language as its default (until the person writes
    in another language or chooses one with /sprache)."""
    if state.step is Step.IDLE and not state.filled and hint and state.language_source == "client":
        state.language = normalise_language(hint)
    return state
