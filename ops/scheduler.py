"""``consigne scheduler``: the periodic jobs in one long-running process (compose's ``scheduler`` service).

Run on one machine only, whatever the number of web instances. Each job is a ``consigne`` command run in
this process at its interval; a job that fails is logged as one JSON line and tried again at its next
turn, never stopping the others. Without Docker, cron lines do the same (README).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Job:
    name: str
    arguments: tuple[str, ...]
    every_seconds: int


JOBS = (
    Job("purge", ("purge",), 5 * MINUTE),  # expired shares lose their wrapped keys within minutes
    Job("sweep-sessions", ("sweep-sessions",), 5 * MINUTE),
    Job("sweep-orphans", ("sweep-orphans",), DAY),
    Job("check", ("check",), DAY),
    Job("audit", ("audit", "verify"), DAY),
    Job("reminders", ("reminders",), DAY),  # lists, and tells the notifier if one is set (never twice)
)


def run_due(jobs: tuple[Job, ...], last_run: dict[str, float], now: float, command: Callable[[list[str]], int],
            out=None) -> None:
    """Run every job whose interval has passed since its last run (all of them at the first turn)."""
    out = out or sys.stdout
    for job in jobs:
        if job.name in last_run and now - last_run[job.name] < job.every_seconds:
            continue
        last_run[job.name] = now
        started = time.monotonic()
        try:
            status = command(list(job.arguments))
        except Exception as error:  # noqa: BLE001 - one failing job must not stop the others
            status = f"crashed: {type(error).__name__}"
        print(json.dumps({"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "job": job.name,
                          "status": status, "seconds": round(time.monotonic() - started, 3)}), file=out, flush=True)


def run_forever(command: Callable[[list[str]], int], *, once: bool = False, tick_seconds: int = 30) -> int:
    last_run: dict[str, float] = {}
    while True:
        run_due(JOBS, last_run, time.monotonic(), command)
        if once:
            return 0
        time.sleep(tick_seconds)


__all__ = ["JOBS", "Job", "run_due", "run_forever"]
