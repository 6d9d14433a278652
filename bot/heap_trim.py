"""Gives the memory a burst has freed back to the operating system, every HEAP_TRIM_SECONDS.

Why: after a burst (a campaign, a broadcast, a backlog after a restart) CPython frees its objects,
but glibc's malloc keeps the freed pages of its heaps for later and returns only what lies at the
very top of a heap. So the resident set stays at the burst's peak for as long as the process runs,
although it needs far less. bench/load.py showed it: 238 MB after an overloaded wave of 2,000
users, 143 MB after one `malloc_trim(0)`, 119 MB at start-up; the number of Python objects had
hardly grown. `malloc_trim(0)` hands back every whole free page in every arena (glibc ≥ 2.8),
which the M_TRIM_THRESHOLD tuning knob does not (it trims only the top).

It runs on the scheduler's own thread, never on the event loop; ctypes releases the GIL for the
call (about 30 ms when 200 MB go back, 1 ms when there is nothing to hand back), so turns go on
meanwhile. Pages handed back and needed again cost a page fault each: once a minute that is
nothing, after every turn it would be. Where malloc is not glibc's (musl in an
Alpine image, macOS) there is no `malloc_trim`, and this runtime stays off.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from collections.abc import Callable

from bot.clock import Clock, system_clock
from bot.scheduling import Ticking, tick_scheduler

log = logging.getLogger(__name__)
Trim = Callable[[], object]


def glibc_malloc_trim() -> Trim | None:
    """`malloc_trim(0)` of the C library this process runs on, or None where that is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim  # the already loaded C library
    except (OSError, AttributeError):
        return None
    malloc_trim.argtypes = [ctypes.c_size_t]
    malloc_trim.restype = ctypes.c_int
    return lambda: malloc_trim(0)


def resident_bytes() -> int:
    """This process's resident set size (Linux), 0 where /proc is not there."""
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class HeapTrim(Ticking):
    """Trims the heap once at start-up and then every `seconds`; `on_trim` gets the bytes handed back."""

    def __init__(
        self,
        seconds: float,
        trim: Trim | None,
        on_trim: Callable[[int], None] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.seconds = seconds
        self.trim = trim
        self.on_trim = on_trim
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.seconds > 0 and self.trim is not None

    def trim_once(self) -> int:
        """Trims now; returns how many bytes the resident set shrank by (never negative)."""
        if self.trim is None:
            return 0
        before = resident_bytes()
        self.trim()
        released = max(0, before - resident_bytes())
        if released:
            log.debug("heap trim: %.1f MB handed back to the operating system", released / 2**20)
        if self.on_trim is not None:
            self.on_trim(released)
        return released

    async def start(self) -> None:
        if self.enabled:
            self.scheduler = tick_scheduler(self.trim_once, self.seconds, "heap-trim", self.clock)
