"""Bounds on heavy work per process: Argon2id computations and image/PDF decoding.

Why: one sign-in costs 64 MiB and a quarter of a second of a core; one photo can decode to 100 MiB of
pixels. Left unbounded, a burst of hostile requests (or just a busy morning at a shelter) takes every
core and gigabytes of memory, and listing one's papers becomes slow for everyone. So each kind of heavy
work goes through a ``WorkGate``: at most ``slots`` computations at once in this process, a queue that
waits at most ``wait_seconds`` for a slot, and beyond that a clear "busy, try again in N seconds" error
(``Retry-After``) instead of an ever-growing queue.

The work itself runs on the gate's own threads, started with a lower CPU priority (a higher ``nice``
value, per thread on Linux): when a sign-in and a listing compete for a core, the listing wins, so the
rest of the service keeps its latency while sign-ins queue. cryptography's Argon2id and Pillow release
the GIL while they compute, so the request threads keep running meanwhile.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from vault.errors import SignInBusy, UploadsBusy, VaultError

log = logging.getLogger(__name__)
Result = TypeVar("Result")
LOWER_PRIORITY = 10  # nice value of the gates' threads (0 is normal, 19 the lowest)


class WorkGate:
    """At most ``slots`` calls of ``run`` compute at once; a caller waits up to ``wait_seconds``."""

    def __init__(self, name: str, *, slots: int, wait_seconds: float, busy_error: type[VaultError],
                 nice: int = LOWER_PRIORITY) -> None:
        if slots < 1 or wait_seconds < 0:
            raise ValueError("a work gate needs at least one slot and a non-negative wait")
        self.name = name
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.busy_error = busy_error
        self._free = threading.BoundedSemaphore(slots)
        # Threads are created on first use, so a server that forks its workers after loading the
        # application (gunicorn --preload) gets fresh ones in each worker.
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix=f"consigne-{name}",
                                        initializer=_lower_priority, initargs=(nice,))

    def run(self, function: Callable[..., Result], *args, **kwargs) -> Result:
        """``function(*args, **kwargs)`` on one of the gate's threads, or ``busy_error`` if none frees up."""
        if not self._free.acquire(timeout=self.wait_seconds):
            raise self.busy_error(retry_after_seconds=max(1, math.ceil(self.wait_seconds)))
        try:
            return self._pool.submit(function, *args, **kwargs).result()
        finally:
            self._free.release()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass(frozen=True)
class Gates:
    """The process's gates, built once by the application (never module-level singletons)."""

    kdf: WorkGate
    media: WorkGate

    @classmethod
    def from_capacity(cls, capacity) -> Gates:
        """The gates ``settings.capacity`` (vault.settings.Capacity) describes."""
        return cls(
            kdf=WorkGate("kdf", slots=capacity.kdf_slots, wait_seconds=capacity.kdf_wait_seconds,
                         busy_error=SignInBusy),
            media=WorkGate("media", slots=capacity.media_slots, wait_seconds=capacity.media_wait_seconds,
                           busy_error=UploadsBusy),
        )

    def close(self) -> None:
        self.kdf.close()
        self.media.close()


def _lower_priority(nice: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)  # one thread, on Linux
    except (AttributeError, OSError) as error:  # other systems: the bound on slots still holds
        log.debug("could not lower the priority of the %s thread: %s", threading.current_thread().name, error)
