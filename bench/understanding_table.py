"""Per-slot precision and recall of the free-text understanding over the phrasing table.

    .venv/bin/python -m bench.understanding_table [--rows]

The table (tests/understanding_table.py plus the original rows of tests/test_understanding.py) is
what people type on a phone: English, simple German, mixed signals and negations. Precision says
how often a filled slot is right (a wrong slot sends people to the wrong offers), recall how often
a slot that was said is filled (a miss only costs one more question). The test suite asserts the
targets (>= 0.95 for situation, district and goal; no silently wrong situation); this prints the
numbers by category, the rows that miss, the language detection, and what a message costs.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from knowledge.gazetteer import Gazetteer
from knowledge.language import detect_language
from knowledge.understanding import understand
from tests.test_understanding import CASES
from tests.understanding_table import CATEGORIES, SLOTS, Row, expected_situation, score


def _table(title: str, rows: list[Row], gaz: Gazetteer) -> list[str]:
    scores, silent = score(rows, lambda text: understand(text, gaz))
    lines = [
        f"| {title} ({len(rows)} rows) | "
        + " | ".join(f"{scores[s].precision:.3f} / {scores[s].recall:.3f}" for s in SLOTS)
        + f" | {len(silent)} |"
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="store_true", help="list every row that misses or errs")
    args = parser.parse_args()

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gaz = Gazetteer.bundled()
    understand("warm-up", gaz)
    started = time.perf_counter()
    detect_language("this loads the language models once", gaz)
    lingua_load = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    groups: list[tuple[str, list[Row]]] = [("German (original rows)", list(CASES)), *CATEGORIES.items()]
    everything = [row for _, rows in groups for row in rows]
    print("precision / recall per slot; last column: rows with a wrong situation filled silently\n")
    print("| rows | " + " | ".join(SLOTS) + " | silently wrong situation |")
    print("|---|" + "---:|" * (len(SLOTS) + 1))
    for title, rows in groups:
        print("\n".join(_table(title, rows, gaz)))
    print("\n".join(_table("**all**", everything, gaz)))

    if args.rows:
        print("\nrows that miss or err:")
        for text, expected in everything:
            u = understand(text, gaz)
            for slot in SLOTS:
                listed, want = (
                    expected_situation(expected)
                    if slot == "situation"
                    else (slot in expected, expected.get(slot))
                )
                if listed and getattr(u, slot) != want:
                    print(f"  {text!r}: {slot} = {getattr(u, slot)}, wanted {want}")

    print("\nlanguage detected (en / de / none = keeps the current language):")
    for title, rows in groups:
        found = [detect_language(text, gaz) for text, _ in rows]
        print(f"  {title}: en {found.count('en')}, de {found.count('de')}, none {found.count(None)}")

    texts = [text for text, _ in everything]
    costs: list[float] = []
    for text in texts * 5:
        t0 = time.perf_counter()
        understand(text, gaz)
        detect_language(text, gaz)
        costs.append(time.perf_counter() - t0)
    costs.sort()
    print(
        f"\nunderstanding + language detection per message: median {statistics.median(costs) * 1e3:.2f} ms, "
        f"p95 {costs[int(len(costs) * 0.95)] * 1e3:.2f} ms; lingua (German + English, low-accuracy mode) "
        f"loads in {lingua_load * 1e3:.0f} ms and adds about {(rss_after - rss_before) / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
