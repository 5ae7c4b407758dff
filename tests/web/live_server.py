"""Real HTTP servers on 127.0.0.1, plain HTTP clients (from any loopback address), and a process's memory peak.

- ``serving(app)`` / ``live_server(app)``: the application on Werkzeug's threaded server, in this process
  (one thread per request, as in the embedded server), for tests that look at the database and the store
  afterwards. ``LiveServer`` sends requests from other loopback source addresses: per-address behaviour
  needs no network set-up, a client may bind any address in 127.0.0.0/8 and the server sees it as the
  remote address (see shared/notes/postgres-and-browser.md).
- ``EmbeddedServer``: ``consigne serve`` in its own process, for tests that measure its memory: its peak
  is read from /proc (``VmHWM``) after resetting it (writing 5 to ``clear_refs``), so nothing of the test
  process (the client, the files it built) is counted.
- The client sends bodies built beforehand with ``http.client``: it adds no copy of a document while
  the server handles it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

REPOSITORY = Path(__file__).resolve().parents[2]
PASSWORD = "cheval-lune-tambour-9"
START_SECONDS = 60
REQUEST_SECONDS = 120


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: dict

    @property
    def code(self) -> str | None:
        return self.body.get("code")


@contextlib.contextmanager
def serving(app, host: str = "127.0.0.1") -> Iterator[str]:
    """The app on a threaded HTTP server; yields its base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(REQUEST_SECONDS)
        server.server_close()


@dataclass
class LiveServer:
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: dict | None = None, *, source: str = "127.0.0.1",
             headers: dict[str, str] | None = None) -> Answer:
        """A JSON request from the loopback address ``source``."""
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", "Accept-Language": "en", **(headers or {})}
        return request(self.base_url, method, path, body=payload, headers=all_headers, source=source)

    def in_parallel(self, calls: list[tuple]) -> list[Answer]:
        """Each (method, path, body, source) sent at the same moment, on its own connection; answers in order."""
        barrier = threading.Barrier(len(calls))

        def send(arguments):
            method, path, body, source = arguments
            barrier.wait(60)
            return self.call(method, path, body, source=source)

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(send, calls, timeout=300))


@contextlib.contextmanager
def live_server(app) -> Iterator[LiveServer]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with serving(app) as base_url:
        yield LiveServer(int(base_url.rsplit(":", 1)[1]))


def request(base_url: str, method: str, path: str, *, body: bytes | None = None,
            headers: dict[str, str] | None = None, source: str | None = None) -> Answer:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=REQUEST_SECONDS,
                                            source_address=(source, 0) if source else None)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        parsed = json.loads(raw) if raw and "json" in content_type else {}
        return Answer(response.status, {name.lower(): value for name, value in response.getheaders()}, parsed)
    finally:
        connection.close()


def post_json(base_url: str, path: str, payload: dict, token: str | None = None) -> Answer:
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return request(base_url, "POST", path, body=json.dumps(payload).encode(), headers=headers)


def person_token(base_url: str, username: str) -> str:
    """Enrol a person and sign in over HTTP; the bearer token."""
    enrolled = post_json(base_url, "/api/v1/people", {"username": username, "password": PASSWORD})
    assert enrolled.status == 201, enrolled.body
    signed_in = post_json(base_url, "/api/v1/sessions", {"username": username, "password": PASSWORD})
    assert signed_in.status == 201, signed_in.body
    return signed_in.body["token"]


def upload_body(files: list[tuple[bytes, str]], kind: str = "autre") -> tuple[bytes, str]:
    """A multipart/form-data body for POST /documents, built once, and its content type."""
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'.encode()]
    for content, name in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode())
        parts.append(content)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(base_url: str, token: str, body: bytes, content_type: str) -> Answer:
    return request(base_url, "POST", "/api/v1/documents", body=body,
                   headers={"Authorization": f"Bearer {token}", "Content-Type": content_type,
                            "Accept-Language": "en"})


# --- a server in its own process, and its memory -----------------------------------------------------
def process_memory(pid: int, field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (the peak since the last reset) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def reset_memory_peak(pid: int) -> int:
    """Start a new peak from what the process holds now (Linux: 5 into clear_refs); returns that."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return process_memory(pid, "VmRSS")


class EmbeddedServer:
    """``consigne migrate`` then ``consigne serve`` (Werkzeug, threaded) on a fresh SQLite data folder."""

    def __init__(self, data_dir: Path, **environment: str) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONSIGNE_")}
        self.environment = inherited | {
            "CONSIGNE_DATA_DIR": str(data_dir),
            "CONSIGNE_DATABASE_URL": f"sqlite:///{data_dir / 'consigne.sqlite3'}",
            "CONSIGNE_KDF": "fast-insecure-for-tests",
            "CONSIGNE_BASE_URL": self.base_url,
        } | environment
        migrated = subprocess.run([sys.executable, "-m", "ops.cli", "migrate"], cwd=REPOSITORY,
                                  env=self.environment, capture_output=True, text=True, timeout=START_SECONDS)
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        # The request log goes to a file: a pipe nobody reads would fill up and stop the server.
        self.log_path = data_dir.parent / "server.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "ops.cli", "serve", "--port", str(port)],
                                            cwd=REPOSITORY, env=self.environment, stdout=log, stderr=log)
        self._wait_until_ready()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("the server stopped: " + self.log_path.read_text()[-2000:])
            with contextlib.suppress(OSError):
                if request(self.base_url, "GET", "/health").status == 200:
                    return
            time.sleep(0.1)
        raise AssertionError("the server did not answer /health in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
