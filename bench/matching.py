"""Benchmark: the top five offers for a profile among 10,000 synthetic offers.

    .venv/bin/python -m bench.matching [--offers 10000] [--queries 300] [--json FILE]

Three ways to the same five offers, timed per query (p50/p95, wall time of one call, nothing
else running in this process): the bot's index (`knowledge.ranking.OfferIndex.top`), the
full scan it replaced (`knowledge.matching.rank`, every offer scored, rapidfuzz for keywords), and
the baseline the target names: the same scan with Python's difflib for the keyword comparison.
Profiles are random (situation, district, sector, goal) with 0–3 keywords from the offers'
vocabulary, every other one with a typo. Targets: index p50 ≤ 2 ms and ≥ 20× faster than difflib.
The index's result is checked against the full scan for every query.
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.report import save

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _difflib_fits(word: str, keyword: str) -> bool:
    return difflib.SequenceMatcher(None, word, keyword).ratio() >= 0.88 or (
        len(keyword) >= 5 and keyword in word
    )


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def bench(n_offers: int, queries: int, seed: int = 3) -> dict[str, Any]:
    from knowledge import matching
    from knowledge.matching import Match, Profile, rank
    from knowledge.ranking import OfferIndex
    from knowledge.vocabulary import District, Goal, Sector, Situation
    from tests import synthetic_offers

    offers, words = synthetic_offers.offers(n_offers, seed=seed)
    build_ms, index = _timed(lambda: OfferIndex(offers))
    rng = random.Random(seed)
    profiles = []
    for q in range(queries):
        keywords = rng.sample(words, rng.randint(0, 3))
        if keywords and q % 2:
            keywords[0] = keywords[0][:2] + keywords[0][3:]
        profiles.append(
            Profile(
                rng.choice(list(Situation)),
                rng.choice(list(District)),
                rng.choice([None, *Sector]),
                rng.choice([None, *Goal]),
                tuple(keywords),
            )
        )

    def scan_top5(profile: Profile) -> list[Match]:
        return rank(offers, profile)[:5]

    for profile in profiles[:20]:  # warm-up (the index caches what a word hits)
        index.top(profile, 5)
    index_ms: list[float] = []
    scan_ms: list[float] = []
    mismatches = 0
    for profile in profiles:
        ms, (top, _) = _timed(partial(index.top, profile, 5))
        index_ms.append(ms)
        ms, full = _timed(partial(scan_top5, profile))
        scan_ms.append(ms)
        mismatches += [m.offer.id for m in top] != [m.offer.id for m in full]
    difflib_ms: list[float] = []
    original = matching.keyword_fits
    matching.keyword_fits = _difflib_fits  # the plain scan: same scoring, difflib for the words
    try:
        for profile in profiles[: max(20, queries // 10)]:
            ms, _ = _timed(partial(scan_top5, profile))
            difflib_ms.append(ms)
    finally:
        matching.keyword_fits = original
    index_p50 = statistics.median(index_ms)
    return {
        "offers": n_offers,
        "queries": queries,
        "index_build_ms": round(build_ms, 1),
        "index_ms_p50": round(index_p50, 3),
        "index_ms_p95": round(_p95(index_ms), 3),
        "scan_ms_p50": round(statistics.median(scan_ms), 2),
        "scan_ms_p95": round(_p95(scan_ms), 2),
        "difflib_ms_p50": round(statistics.median(difflib_ms), 1),
        "difflib_ms_p95": round(_p95(difflib_ms), 1),
        "difflib_queries": len(difflib_ms),
        "speedup_vs_difflib_p50": round(statistics.median(difflib_ms) / index_p50, 1),
        "speedup_vs_scan_p50": round(statistics.median(scan_ms) / index_p50, 1),
        "mismatches": mismatches,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    r = bench(args.offers, args.queries)
    print(
        f"matching (top 5 of {r['offers']:,} offers, {r['queries']} profiles): "
        f"index p50 {r['index_ms_p50']} ms, "
        f"p95 {r['index_ms_p95']} ms; full scan p50 {r['scan_ms_p50']} ms; difflib scan p50 "
        f"{r['difflib_ms_p50']} ms ({r['speedup_vs_difflib_p50']}x the index); mismatches {r['mismatches']}"
    )
    save(args.json, r)


if __name__ == "__main__":
    main()
