"""A throw-away PostgreSQL cluster on 127.0.0.1 for the PostgreSQL lane (Debian ``postgresql``)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

from tests.lanes import missing

START_TIMEOUT_SECONDS = 30


def find_postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """Yield a SQLAlchemy URL to an empty database of a fresh cluster; stop and delete it afterwards."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        missing("PostgreSQL", "apt-get install postgresql")
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="consigne-pg-"))
    data = folder / "data"
    port = free_port()
    runner: list[str] = []
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
        runner = ["runuser", "-u", "postgres", "--"]
    log = folder / "server.log"
    try:
        subprocess.run(runner + [str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-E", "UTF8",
                                 "--locale=C.UTF-8", "-U", "consigne"], check=True, capture_output=True)
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off " \
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        subprocess.run(runner + [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
                                 "-t", str(START_TIMEOUT_SECONDS), "start"], check=True, capture_output=True)
        subprocess.run(runner + [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "consigne",
                                 "consigne_test"], check=True, capture_output=True)
        yield f"postgresql+psycopg://consigne@127.0.0.1:{port}/consigne_test"
    except subprocess.CalledProcessError as error:
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr!r}\n{tail}") from error
    finally:
        subprocess.run(runner + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(folder, ignore_errors=True)
