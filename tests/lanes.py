"""Test lanes and the rule for missing components.

A lane needs a component from outside Python (the `age` tool, OpenStack Swift, PostgreSQL, Chromium).
Outside CI a missing component skips the lane with a clear reason, so a newcomer can run the suite on a
laptop; with ``CI=true`` it fails, so a missing install step in ``.ci/run`` can never hide as a skip.
"""

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(component: str, how_to_install: str) -> None:
    """Skip (or, in CI, fail) the current test because ``component`` is not available."""
    message = f"{component} is not available here ({how_to_install})"
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def require_program(program: str, debian_package: str) -> str:
    """Return the path of ``program`` or skip/fail the test if it is not installed."""
    path = shutil.which(program)
    if path is None:
        missing(program, f"apt-get install {debian_package}")
    return path
