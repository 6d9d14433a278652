"""Benchmark: the CPU of one conversation turn (database + dialog, no transport), first contact vs. again.

    .venv/bin/python -m bench.turn [--users 500] [--json FILE]

A campaign brings thousands of people who write for the first time; their first turn creates the
user. Measured: /start of `--users` new users on SQLite, then /start of the same users again (the
baseline from the same run: a returning user's turn). Ratio = first contact ÷ returning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import save

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def bench(users: int) -> dict[str, Any]:
    from bot.app import build_service
    from bot.settings import Settings
    from db import migrate
    from db.engine import make_engine
    from handlers.turn import Turn, TurnKind

    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/turn.sqlite3"
        migrate.upgrade(url)
        engine = make_engine(url)
        service = build_service(Settings(database_url=url), engine)

        def start(user: int) -> Turn:
            return Turn("telegram", str(user), TurnKind.COMMAND, command="start", language="de", at=now)

        for user in range(100):  # warm-up
            service.handle_sync(start(user))
        began = time.process_time()
        for user in range(1000, 1000 + users):
            service.handle_sync(start(user))
        first = (time.process_time() - began) / users * 1000
        began = time.process_time()
        for user in range(1000, 1000 + users):
            service.handle_sync(start(user))
        again = (time.process_time() - began) / users * 1000
        engine.dispose()
    return {
        "users": users,
        "first_contact_cpu_ms": round(first, 3),
        "returning_cpu_ms": round(again, 3),
        "ratio": round(first / again, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    r = bench(args.users)
    print(
        f"turn (SQLite, no transport): first contact {r['first_contact_cpu_ms']} ms CPU, "
        f"returning user {r['returning_cpu_ms']} ms ({r['ratio']}x)"
    )
    save(args.json, r)


if __name__ == "__main__":
    main()
