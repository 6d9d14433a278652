"""Writes docs/benchmarks.md from the JSON results of one `make bench` run.

    .venv/bin/python -m bench.report RESULTS_DIR docs/benchmarks.md

Every row is a ratio to a baseline measured in the same run (absolute values are there for
information only: on a shared machine they move from run to run far more than the ratios).
The recorded before → after comparison (bench/before_after.md) and the reminder fan-out table
(bench/README.md) are included as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


_BLOCK = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.S)


def save(path: Path | None, result: dict[str, Any]) -> None:
    """A benchmark's `--json FILE`: the result `make bench` hands to this report."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _load(directory: Path, name: str) -> dict[str, Any] | None:
    path = directory / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def rows(results: Path) -> list[str]:
    out: list[str] = []
    for name in ("dialog", "dialog_postgresql", "dialog_postgresql_2p"):
        d = _load(results, name)
        if d is None:
            continue
        db, users, processes = d["database"], d["users"], d.get("processes", 1)
        if processes > 1:  # bench/dialog_webhook.py
            db += f", {processes} processes per bot (webhook, round-robin proxy)"
            requests = "dialog: Bot API requests per update"
            errors = f"; Bot API errors {sum(d['api_errors'].values())}, ERROR log lines {d['log_errors']}"
        else:
            db += ", one process" if db == "postgresql" else ""
            requests = "dialog: Bot API requests per update (getUpdates aside)"
            errors = ""
        rounds = ""
        if "whole_cpu_ms_rounds" in d:
            rounds = (
                f"; whole bot per round {', '.join(f'{v:.2f}' for v in d['whole_cpu_ms_rounds'])} ms "
                f"(bare {', '.join(f'{v:.2f}' for v in d['bare_cpu_ms_rounds'])})"
            )
        out += [
            f"| dialog: CPU per update, {users} users at once, {db} | "
            "bare PTB bot, same traffic and stand-in | "
            f"{d['cpu_ratio']} | ≤ 1.4 | {_met(d['cpu_ratio'] <= 1.4)} | whole bot {d['whole_cpu_ms']} ms, "
            f"bare {d['bare_cpu_ms']} ms; median of {d['rounds']} paired turns, each pair's ratio: "
            f"{', '.join(str(r) for r in d.get('cpu_ratios', []))}{rounds} |",
            f"| dialog: CPU per update, {users} users at once, {db}, against the bare bot on the whole bot's "
            "Bot API client | bare PTB bot on aiohttp | "
            f"{d['cpu_ratio_same_client']} | – | – | what our own code costs: bare on aiohttp "
            f"{d['bare_aiohttp_cpu_ms']} ms; pairs: "
            f"{', '.join(str(r) for r in d['cpu_ratios_same_client'])} |",
            f"| dialog: updates/s, {users} users at once, {db} | bare PTB bot | "
            f"{d['throughput_ratio']} | – | – | "
            f"whole bot {d['whole_updates_per_s']}/s, bare {d['bare_updates_per_s']}/s{errors} |",
            f"| {requests}, {db} | bare PTB bot | "
            f"{round(d['whole_requests_per_update'] / d['bare_requests_per_update'], 2)} | 1.0 | "
            f"{_met(d['whole_requests_per_update'] <= d['bare_requests_per_update'])} | "
            f"{d['whole_requests_per_update']} vs {d['bare_requests_per_update']} |",
        ]
    if (d := _load(results, "latency")) is not None:
        out.append(
            f"| tap every {d['tap_every_s']:g} s through a whole dialog, tap → last message of the answer, "
            f"{d['users']} users, Telegram's per-chat limit, {d['database']}, one process | bare PTB bot "
            f"under the same taps (p95) | {d['p95_ratio_to_bare']} | p95 ≤ 1 s | "
            f"{_met(d['latency_ms_p95'] <= 1000)} | p50 {d['latency_ms_p50']} ms, "
            f"p95 {d['latency_ms_p95']} ms, "
            f"max {d['latency_ms_max']} ms; bare p50 {d['bare_latency_ms_p50']} ms, p95 "
            f"{d['bare_latency_ms_p95']} ms ({d['taps']} taps) |"
        )
    if (d := _load(results, "matching")) is not None:
        speedup = d["speedup_vs_difflib_p50"]
        out.append(
            f"| matching: top 5 of {d['offers']:,} synthetic offers, p50 | plain difflib scan | "
            f"{speedup}× faster | ≥ 20× and p50 ≤ 2 ms | {_met(speedup >= 20 and d['index_ms_p50'] <= 2)} | "
            f"index p50 {d['index_ms_p50']} ms, p95 {d['index_ms_p95']} ms; full rapidfuzz scan (before) p50 "
            f"{d['scan_ms_p50']} ms; difflib p50 {d['difflib_ms_p50']} ms; {d['mismatches']} results differ |"
        )
    if (d := _load(results, "turn")) is not None:
        out.append(
            f"| conversation turn (database + dialog, SQLite, no transport): a new user's first turn | "
            f"the same users' next turn | {d['ratio']} | – | – | "
            f"first contact {d['first_contact_cpu_ms']} ms CPU, "
            f"returning {d['returning_cpu_ms']} ms ({d['users']} users) |"
        )
    return out


def _section(path: Path, start: str, end: str) -> str:
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"{re.escape(start)}\n(.*?){re.escape(end)}", text, re.S)
    return match.group(1).strip() if match else ""


def render(results: Path) -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    machine = f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {today} ({machine}). Each result is a **ratio to a baseline measured in",
        "the same run**; the absolute values are for information (on a shared machine they move by a third",
        "from run to run, the ratios far less). Benchmarks are never timed assertions in tests.",
        "",
        "| benchmark | baseline (same run) | ratio | target | met | absolute values |",
        "|---|---|---:|---|---|---|",
        *rows(results),
        "",
        "The dialog pairs scatter on a shared machine: a pair whose whole-bot turn ran while other work",
        "loaded the cores costs up to twice as much; the median of the pairs is the result.",
        "The PostgreSQL rows are there when `make bench` had BENCH_POSTGRES_URL; load, memory and start-up",
        "are not part of this run (their sections below are written by `bench.load` and `bench.startup`).",
        "",
        "Commands: `python -m bench.dialog` (ratio), `python -m bench.dialog --latency`,",
        "`python -m bench.matching`, `python -m bench.turn`; each takes `--json FILE`, `bench.dialog` also",
        "`--database-url postgresql://…`, `--processes 2` (two webhook processes per bot, PostgreSQL) and",
        "`--profile whole` (cProfile; with `--processes 2` py-spy).",
        "",
    ]
    before_after = ROOT / "bench" / "before_after.md"
    if before_after.exists():
        lines += [before_after.read_text(encoding="utf-8").strip(), ""]
    fanout = _section(
        ROOT / "bench" / "README.md", "<!-- reminder-fanout:start -->", "<!-- reminder-fanout:end -->"
    )
    if fanout:
        lines += ["## Reminder fan-out (recorded, not rerun by `make bench`)", "", fanout, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    results, target = Path(args[0]), Path(args[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render(results)
    # blocks other benchmarks keep up to date themselves (bench/ops_report.py: load, start-up) stay
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    for block in _BLOCK.finditer(old):
        if f"<!-- {block.group(1)}:start -->" not in text:
            text = f"{text.rstrip()}\n\n{block.group(0)}\n"
    target.write_text(text, encoding="utf-8")
    print(f"{target} written")


if __name__ == "__main__":
    main()
