"""The one clock the transports and schedulers read.

The dialog core never asks for the time: a transport stamps each `Turn` with `clock()` when the
message arrives, and the reminder dispatcher takes `now` from its clock. Passing another `Clock`
(or pinning time with time-machine in tests) is how the whole bot runs at any hour in tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from db.types import utcnow

Clock = Callable[[], dt.datetime]  # returns an aware UTC datetime

system_clock: Clock = utcnow
