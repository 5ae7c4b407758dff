"""The scheduler runs each job at its interval, and a failing job never stops the others."""

from __future__ import annotations

import io
import json

import pytest

from ops import cli
from ops.scheduler import JOBS, Job, run_due


def test_each_job_runs_at_its_own_interval():
    ran: list[list[str]] = []
    jobs = (Job("often", ("a",), 60), Job("daily", ("b",), 86400))
    last: dict[str, float] = {}
    out = io.StringIO()
    for now in (0, 30, 61, 125, 86401):
        run_due(jobs, last, now, lambda arguments: ran.append(arguments) or 0, out=out)
    assert ran == [["a"], ["b"], ["a"], ["a"], ["a"], ["b"]]
    assert [json.loads(line)["job"] for line in out.getvalue().splitlines()] == ["often", "daily", "often", "often",
                                                                                 "often", "daily"]


def test_a_crashing_job_is_logged_and_the_others_still_run():
    def command(arguments):
        if arguments == ["boom"]:
            raise RuntimeError("database down")
        return 0

    out = io.StringIO()
    run_due((Job("boom", ("boom",), 60), Job("fine", ("fine",), 60)), {}, 0, command, out=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["job"], line["status"]) for line in lines] == [("boom", "crashed: RuntimeError"), ("fine", 0)]


def test_every_job_is_a_real_command():
    for job in JOBS:
        with pytest.raises(SystemExit) as stopped:
            cli.main([*job.arguments, "--help"])
        assert stopped.value.code == 0, job


@pytest.mark.usefixtures("database_url")
def test_once_runs_every_job_against_a_real_instance(environment, capsys):
    assert cli.main(["scheduler", "--once"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"time"')]
    assert {line["job"]: line["status"] for line in lines} == {job.name: 0 for job in JOBS}
