"""Work gates bound heavy work per process, queue briefly, then answer busy; their threads run niced."""

from __future__ import annotations

import os
import threading

import pytest

from vault.capacity import LOWER_PRIORITY, WorkGate
from vault.errors import SignInBusy


def test_at_most_slots_run_at_once_and_a_late_caller_is_told_to_come_back():
    gate = WorkGate("test", slots=1, wait_seconds=0.2, busy_error=SignInBusy)
    started, release = threading.Event(), threading.Event()

    def hold():
        started.set()
        release.wait(10)
        return "first"

    results = []
    first = threading.Thread(target=lambda: results.append(gate.run(hold)))
    first.start()
    assert started.wait(10)
    with pytest.raises(SignInBusy) as refused:
        gate.run(lambda: "second")
    assert refused.value.retry_after_seconds >= 1
    release.set()
    first.join(10)
    assert results == ["first"]
    assert gate.run(lambda: "third") == "third"  # the slot was given back
    gate.close()


def test_a_queued_caller_gets_the_slot_when_it_frees_within_the_wait():
    gate = WorkGate("test", slots=1, wait_seconds=10, busy_error=SignInBusy)
    started, release = threading.Event(), threading.Event()
    first = threading.Thread(target=lambda: gate.run(lambda: (started.set(), release.wait(10))))
    first.start()
    assert started.wait(10)
    threading.Timer(0.1, release.set).start()
    assert gate.run(lambda: "queued") == "queued"
    first.join(10)
    gate.close()


def test_errors_reach_the_caller_and_free_the_slot():
    gate = WorkGate("test", slots=1, wait_seconds=0.1, busy_error=SignInBusy)
    with pytest.raises(ZeroDivisionError):
        gate.run(lambda: 1 / 0)
    assert gate.run(lambda: 42) == 42
    gate.close()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="thread priorities are a Linux feature")
def test_work_runs_on_a_thread_with_lower_priority():
    gate = WorkGate("test", slots=1, wait_seconds=1, busy_error=SignInBusy)
    nice = gate.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert nice >= LOWER_PRIORITY
    assert gate.run(threading.get_ident) != threading.get_ident()
    gate.close()
