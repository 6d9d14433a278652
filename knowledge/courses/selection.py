"""Which of the fetched courses a user sees: current ones, matching the filter, nearest first.

The API filters by radius, time, form and Bildungsgutschein itself; the same rules are applied
again here because records can be sparse or the server can ignore a parameter, and a user who
asked for "nur Teilzeit" must not see a Vollzeit course. A field the record does not have never
excludes it (sparse data is the rule, not the exception): only a known contradiction does.
"""

from __future__ import annotations

import datetime as dt
import math

from knowledge.courses.model import Course, CourseQuery

SHOWN = 5


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def course_distance(query: CourseQuery, course: Course) -> float | None:
    if course.lat is None or course.lon is None:
        return None
    return distance_km(query.lat, query.lon, course.lat, course.lon)


def fits(query: CourseQuery, course: Course, today: dt.date) -> bool:
    f = query.filter
    if course.start is not None and course.start < today and not course.individual_start:
        return False  # started already, and nobody joins later
    if f.time != "alle" and course.time is not None and course.time != f.time:
        return False
    if f.form == "online" and course.form == "vorort":
        return False
    if f.form == "vorort" and course.form == "online":
        return False
    if f.voucher_only and course.voucher is False:
        return False
    distance = course_distance(query, course)
    return not (course.form != "online" and distance is not None and distance > f.radius + 0.5)


def select(query: CourseQuery, courses: list[Course], today: dt.date, limit: int = SHOWN) -> list[Course]:
    """Courses that fit, soonest start first (open start and unknown dates after dated ones)."""
    seen: set[str] = set()
    chosen: list[Course] = []
    for course in courses:
        if course.id in seen or not fits(query, course, today):
            continue
        seen.add(course.id)
        chosen.append(course)

    def key(course: Course) -> tuple[int, dt.date, float]:
        start = course.start if course.start is not None and course.start >= today else None
        distance = course_distance(query, course)
        return (0 if start else 1, start or dt.date.max, distance if distance is not None else 1e9)

    return sorted(chosen, key=key)[:limit]
