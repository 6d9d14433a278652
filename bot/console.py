"""The console transport: the same dialog in a terminal, or driven line by line by a script.

Options are numbered across all replies of one turn; typing a number picks that option.
A chat keeps its offer base current like `bildungslotse run` does (`bot.offer_refresh`): a partner's
edit shows up in the next answer after OFFER_REFRESH_SECONDS, also in a session left open for hours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from bot.clock import Clock, system_clock
from bot.conversation import ConversationService
from bot.transport_spec import TransportSpec
from handlers.catalogue import t
from handlers.turn import Option, Reply, Turn, TurnKind

if TYPE_CHECKING:
    from bot.offer_refresh import OfferRefresh

# started by `bildungslotse chat`, never by `bildungslotse run`
SPEC = TransportSpec(name="console", command_prefix="/")
TRANSPORT = SPEC.name


def parse_line(line: str, user: str, options: list[Option], at: dt.datetime) -> Turn:
    text = line.strip()
    if text.isdigit() and options:
        index = int(text) - 1
        if 0 <= index < len(options):
            return Turn(TRANSPORT, user, TurnKind.OPTION, option_id=options[index].id, at=at)
    prefix = SPEC.command_prefix
    if text.startswith(prefix) and len(text) > len(prefix) and not text[len(prefix)].isspace():
        name, _, args = text[len(prefix) :].partition(" ")
        return Turn(TRANSPORT, user, TurnKind.COMMAND, command=name.lower(), args=args.strip(), at=at)
    return Turn(TRANSPORT, user, TurnKind.TEXT, text=line.rstrip("\n"), at=at)


def render(replies: Iterable[Reply]) -> tuple[str, list[Option]]:
    lines: list[str] = []
    options: list[Option] = []
    for reply in replies:
        lines.append(reply.text)
        lines.extend(f"   → {link.label}: {link.url}" for link in reply.links if link.url not in reply.text)
        if reply.attachment:
            lines.append(f"   [Datei: {reply.attachment.filename}]")
        for option in reply.options:
            options.append(option)
            lines.append(f"  {len(options)}) {option.label}")
        lines.append("")
    return "\n".join(lines), options


async def chat(
    service: ConversationService,
    user: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    interactive: bool | None = None,
    read: Callable[[str], str] | None = None,
    clock: Clock = system_clock,
    refresh: OfferRefresh | None = None,
) -> None:
    """`refresh` runs while the chat does: it ticks on a thread of its own, so a reload happens even
    while the loop waits in `input()`, and it is stopped at the end (nothing keeps the process alive)."""
    interactive = stdin.isatty() if interactive is None else interactive
    options: list[Option] = []

    async def send(turn: Turn) -> None:
        nonlocal options
        text, new_options = render(await service.handle(turn))
        options = new_options or options
        stdout.write(text + "\n")
        stdout.flush()

    if refresh is not None:
        await refresh.start()
    try:
        await send(Turn(TRANSPORT, user, TurnKind.COMMAND, command="resume", at=clock()))
        while True:
            try:
                line = (read or input)("> ") if interactive else stdin.readline()
            except (EOFError, KeyboardInterrupt):
                break
            if not interactive and line == "":
                break  # EOF
            if interactive and line.strip().lower() in ("exit", "quit", "/exit", "/quit"):
                break
            await send(parse_line(line, user, options, clock()))
    finally:
        if refresh is not None:
            await refresh.stop()
    if interactive:
        stdout.write(t(service.language_of(TRANSPORT, user), "console.goodbye") + "\n")


def run_chat(service: ConversationService, user: str, refresh: OfferRefresh | None = None) -> None:
    asyncio.run(chat(service, user, refresh=refresh))
