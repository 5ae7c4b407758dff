"""The production serving set-up on 127.0.0.1 (nginx + gunicorn from ops/serving/, SQLite, the local store).

nginx is Debian's ``nginx`` package: outside CI a machine without it skips these tests, in CI they fail
(tests/lanes.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.serving.loopback import Stack, find_nginx, running_stack
from tests.lanes import missing
from vault.db import make_engine, migrate


@pytest.fixture(scope="session")
def nginx_program() -> str:
    program = find_nginx()
    if program is None:
        missing("nginx", "apt-get install nginx")
    return program


def serving_environment(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a development instance in ``folder``, migrated (as ``consigne migrate`` would)."""
    data = folder / "data"
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    database_url = f"sqlite:///{data / 'consigne.sqlite3'}"
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    return {
        "CONSIGNE_DATA_DIR": str(data),
        "CONSIGNE_DATABASE_URL": database_url,
        "CONSIGNE_KDF": "fast-insecure-for-tests",
        "CONSIGNE_TRUSTED_PROXIES": "1",
        **extra,
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory, nginx_program) -> Iterator[Stack]:
    """One production set-up shared by a module's tests (starting one takes a few seconds)."""
    folder = tmp_path_factory.mktemp("serving")
    with running_stack(serving_environment(folder), folder=folder / "stack", nginx=nginx_program) as running:
        yield running
