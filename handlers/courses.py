"""Live courses near the user: the feature side of the Weiterbildungssuche (see knowledge/courses).

How an HTTP lookup fits a synchronous, pure dialog: it does not run here. This module decides
*what* to search (keyword, place, filters) and *how* to show the answer; the conversation
service does the search after the turn is stored and the per-user lock is released
(`bot/conversation.py`, `bot/courses.py`). So:

- after the advisory results (a follow-up of the dialog step), `/kurse SUCHWORT` and each filter
  button only store the filter in the state and defer a `CourseRequest`;
- `render_courses` / `render_unavailable` turn the answer (or the failure) into replies, purely.

Nothing here waits for the network, holds the database, or reads a clock: the request carries the
turn's time. The price: course replies arrive after the turn's other replies, in the same answer,
and two quick taps may show their course lists in the order the searches finish.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from handlers.catalogue import t
from handlers.dates import date_text
from handlers.features import FeatureContext, FeatureRegistry, FollowupContext
from handlers.state import ConversationState, Step
from handlers.turn import Link, Option, Reply
from knowledge.base import KnowledgeBase
from knowledge.courses.keywords import search_word
from knowledge.courses.model import Course, CourseFilter, CoursePage, CourseQuery
from knowledge.courses.selection import course_distance, fits, select
from knowledge.vocabulary import District, Situation

SHOW_OPTION = ("kurs:show", "option.courses")
# where a search is centred when only the district is known: its seat (the gazetteer's coordinates)
DISTRICT_SEATS: dict[District, str] = {
    District.LUENEBURG: "Lüneburg",
    District.HARBURG: "Winsen (Luhe)",
    District.UELZEN: "Uelzen",
    District.LUECHOW_DANNENBERG: "Lüchow (Wendland)",
}
REGION_CENTRE = "Lüneburg"  # nothing known about the place: the network's centre


@dataclass(frozen=True)
class CourseRequest:
    """A search to run after the turn; everything the reply needs travels with it."""

    query: CourseQuery
    lang: str
    prefix: str
    at: dt.datetime  # the turn's time: "today" for current courses, "now" for the cache
    tz: ZoneInfo
    employer: bool = False
    place_guessed: bool = False  # no place known: centred on the region

    @property
    def today(self) -> dt.date:
        return self.at.astimezone(self.tz).date()

    def keep(self, course: Course) -> bool:
        return fits(self.query, course, self.today)


# --- what to search ----------------------------------------------------------------------------


def default_filter(state: ConversationState, keyword: str) -> CourseFilter:
    """Job seekers mostly need the Bildungsgutschein, so for them only approved courses by default."""
    return CourseFilter(keyword=keyword[:60], voucher_only=state.situation is Situation.ARBEITSUCHEND)


def centre(kb: KnowledgeBase, state: ConversationState) -> tuple[str, float, float, bool]:
    """(place name, lat, lon, guessed): the named municipality, else the district seat, else the region."""
    gaz = kb.gazetteer
    if state.place and state.district not in (None, District.AUSSERHALB):
        found = [m for m in gaz.by_name(state.place) if m.district is state.district]
        if len(found) == 1:
            return found[0].name, found[0].lat, found[0].lon, False
    seat = DISTRICT_SEATS.get(state.district) if state.district else None
    guessed = seat is None
    town = gaz.by_name(seat or REGION_CENTRE)[0]
    return town.name, town.lat, town.lon, guessed


def _request(
    kb: KnowledgeBase,
    state: ConversationState,
    course_filter: CourseFilter,
    lang: str,
    prefix: str,
    at: dt.datetime,
    tz: ZoneInfo,
) -> CourseRequest:
    place, lat, lon, guessed = centre(kb, state)
    return CourseRequest(
        query=CourseQuery(filter=course_filter, place=place, lat=lat, lon=lon),
        lang=lang,
        prefix=prefix,
        at=at,
        tz=tz,
        employer=state.situation is Situation.BETRIEB,
        place_guessed=guessed,
    )


def profile_keyword(state: ConversationState) -> str | None:
    return search_word(state.goal, state.sector, state.keywords)


# --- the feature -------------------------------------------------------------------------------


def _search(ctx: FeatureContext, course_filter: CourseFilter) -> list[Reply]:
    ctx.state.courses = course_filter
    ctx.defer(
        _request(ctx.kb, ctx.state, course_filter, ctx.lang, ctx.command_prefix, ctx.turn.at, ctx.settings.tz)
    )
    return []


def courses_command(ctx: FeatureContext) -> list[Reply]:
    """`/kurse SUCHWORT` searches directly; `/kurse` alone searches for the advisory profile."""
    words = " ".join(ctx.turn.args.split())[:60]
    keyword = (
        words or (ctx.state.courses.keyword if ctx.state.courses else None) or profile_keyword(ctx.state)
    )
    if not keyword:
        return [Reply(ctx.t("courses.usage"))]
    previous = ctx.state.courses
    if previous is not None:
        return _search(ctx, previous.model_copy(update={"keyword": keyword}))
    return _search(ctx, default_filter(ctx.state, keyword))


def course_option(ctx: FeatureContext) -> list[Reply]:
    """kurs:show, kurs:r:50, kurs:z:voll|teil|alle, kurs:g:1|0, kurs:f:online|vorort|alle."""
    _, _, rest = ctx.turn.option_id.partition(":")
    action, _, value = rest.partition(":")
    current = ctx.state.courses
    if current is None:
        keyword = profile_keyword(ctx.state)
        if not keyword:
            return [Reply(ctx.t("courses.usage"))]
        current = default_filter(ctx.state, keyword)
    changes: dict[str, object] = {}
    if action == "r" and value in ("25", "50"):
        changes["radius"] = int(value)
    elif action == "z" and value in ("alle", "voll", "teil"):
        changes["time"] = value
    elif action == "g" and value in ("0", "1"):
        changes["voucher_only"] = value == "1"
    elif action == "f" and value in ("alle", "online", "vorort"):
        changes["form"] = value
    elif action != "show":
        return [Reply(ctx.t("stale_option", p=ctx.command_prefix))]
    return _search(ctx, current.model_copy(update=changes))


def after_results(ctx: FollowupContext) -> None:
    """The advisory results were just shown: search courses for the profile, once per result list."""
    if ctx.state.step is not Step.RESULTS or ctx.before.step is Step.RESULTS:
        return
    if ctx.state.district is District.AUSSERHALB:
        return  # the search is centred on the region; outside it, the local Agentur knows better
    keyword = profile_keyword(ctx.state)
    if not keyword:
        return
    course_filter = default_filter(ctx.state, keyword)
    ctx.state.courses = course_filter
    ctx.defer(
        _request(
            ctx.kb,
            ctx.state,
            course_filter,
            ctx.state.language,
            ctx.command_prefix,
            ctx.turn.at,
            ctx.settings.tz,
        )
    )


def courses_off(ctx: FeatureContext) -> list[Reply]:
    return [Reply(ctx.t("courses.off"))]


def register(registry: FeatureRegistry, enabled: bool = True) -> None:
    if not enabled:
        registry.command("kurse")(courses_off)
        return
    registry.command("kurse")(courses_command)
    registry.options("kurs")(course_option)
    registry.followup(after_results)
    registry.result_extra(*SHOW_OPTION)


# --- showing the answer ------------------------------------------------------------------------


def _filter_summary(lang: str, f: CourseFilter) -> str:
    parts = [t(lang, f"courses.time.{f.time}"), t(lang, f"courses.form.{f.form}")]
    if f.voucher_only:
        parts.append(t(lang, "courses.voucher_only"))
    return ", ".join(p for p in parts if p)


def _card(req: CourseRequest, n: int, course: Course) -> str:
    lang = req.lang
    where = [course.provider or t(lang, "courses.unknown_provider")]
    if course.form == "online":
        where.append(t(lang, "courses.online"))
    elif course.town:
        distance = course_distance(req.query, course)
        where.append(
            t(lang, "courses.town_km", town=course.town, km=round(distance))
            if distance is not None
            else course.town
        )
    if course.start is not None and course.start >= req.today:
        when = t(lang, "courses.start", date=date_text(lang, course.start))
    elif course.individual_start:
        when = t(lang, "courses.start_any")
    else:
        when = t(lang, "courses.start_unknown")
    facts = [when]
    if course.time:
        facts.append(t(lang, f"courses.time_of.{course.time}"))
    if course.form_label:
        facts.append(course.form_label)
    voucher = {True: "courses.voucher_yes", False: "courses.voucher_no", None: "courses.voucher_unknown"}
    return "\n".join(
        [
            f"{n}. {course.title}",
            "   " + " · ".join(where),
            "   " + " · ".join(facts),
            "   " + t(lang, voucher[course.voucher]),
        ]
    )


def filter_options(lang: str, f: CourseFilter) -> tuple[Option, ...]:
    other_radius = 50 if f.radius == 25 else 25
    options = [Option(f"kurs:r:{other_radius}", t(lang, "option.courses_radius", km=other_radius))]
    options += [
        Option(f"kurs:z:{v}", t(lang, f"option.courses_time.{v}"))
        for v in ("voll", "teil", "alle")
        if v != f.time
    ]
    options.append(
        Option("kurs:g:0", t(lang, "option.courses_voucher_off"))
        if f.voucher_only
        else Option("kurs:g:1", t(lang, "option.courses_voucher_on"))
    )
    options += [
        Option(f"kurs:f:{v}", t(lang, f"option.courses_form.{v}"))
        for v in ("vorort", "online", "alle")
        if v != f.form
    ]
    return tuple(options)


def render_courses(req: CourseRequest, page: CoursePage, fetched_at: dt.datetime) -> list[Reply]:
    lang, f = req.lang, req.query.filter
    shown = select(req.query, page.courses, req.today)
    head = t(lang, "courses.header", keyword=f.keyword, km=f.radius, place=req.query.place)
    lines = [head, _filter_summary(lang, f)]
    if req.place_guessed:
        lines.append(t(lang, "courses.place_guessed", place=req.query.place))
    if shown:
        lines += [_card(req, n, c) for n, c in enumerate(shown, start=1)]
    else:
        lines.append(t(lang, "courses.none", km=f.radius))
    if req.employer:
        lines.append(t(lang, "courses.employer"))
    lines.append(t(lang, "courses.source", date=date_text(lang, fetched_at.astimezone(req.tz))))
    links = tuple(Link(f"{n}. {c.title[:50]}", c.url) for n, c in enumerate(shown, start=1) if c.url)
    return [Reply("\n\n".join(lines), options=filter_options(lang, f), links=links, question=True)]


def render_unavailable(req: CourseRequest) -> list[Reply]:
    return [Reply(t(req.lang, "courses.unavailable"))]
