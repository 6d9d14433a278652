"""Memory a burst freed goes back to the operating system (bot/heap_trim.py), on glibc's malloc_trim."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.heap_trim import HeapTrim, glibc_malloc_trim, resident_bytes

MB = 2**20
glibc = pytest.mark.skipif(glibc_malloc_trim() is None, reason="needs glibc's malloc_trim")


def burst_then_free(size: int = 200 * MB, chunk: int = 2048, keep_every: int = 64) -> list[bytes]:
    """What a burst leaves behind: many objects freed, a few (sessions, cache entries) still alive among them.

    2 KB objects come from malloc's heap (not Python's small-object arenas, not mmap), and the
    survivors scattered between them, the last one included, keep glibc from trimming the heap's top.
    """
    blocks = [bytes(chunk) for _ in range(size // chunk)]
    survivors = [*blocks[::keep_every], blocks[-1]]
    del blocks
    return survivors


@glibc
def test_a_trim_hands_back_what_a_burst_freed() -> None:
    survivors = burst_then_free()
    held = resident_bytes()
    released = HeapTrim(60, glibc_malloc_trim()).trim_once()
    assert released > 100 * MB  # about 200 MB were freed, 200/64 MB are still in use
    assert resident_bytes() < held - 100 * MB
    assert all(len(block) == 2048 for block in survivors)  # what is still in use stays intact


@glibc
async def test_the_runtime_trims_at_start_and_reports_each_trim_then_stops() -> None:
    reported: list[int] = []
    done = threading.Event()

    def on_trim(released: int) -> None:
        reported.append(released)
        done.set()

    runtime = HeapTrim(3600, glibc_malloc_trim(), on_trim=on_trim)
    survivors = burst_then_free()
    await runtime.start()
    try:
        assert runtime.alive()
        assert await asyncio.to_thread(done.wait, 30)  # the start-up trim, not an hour later
    finally:
        await runtime.stop()
    assert not runtime.alive()
    assert len(reported) == 1 and reported[0] > 100 * MB
    del survivors


async def test_without_glibc_or_with_zero_seconds_nothing_is_scheduled() -> None:
    for runtime in (HeapTrim(60, None), HeapTrim(0, lambda: 0)):
        await runtime.start()
        assert not runtime.enabled and not runtime.alive()
        await runtime.stop()
    assert HeapTrim(60, None).trim_once() == 0
