"""A real threaded HTTP server on 127.0.0.1 for the application, and clients from other loopback addresses.

Per-address behaviour needs no network set-up: a client may bind any source address in 127.0.0.0/8 and
the server sees it as the remote address (see shared/notes/postgres-and-browser.md).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from werkzeug.serving import make_server


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict | None


@dataclass
class LiveServer:
    port: int

    def call(self, method: str, path: str, body: dict | None = None, *, source: str = "127.0.0.1",
             headers: dict[str, str] | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120, source_address=(source, 0))
        try:
            payload = json.dumps(body).encode() if body is not None else None
            all_headers = {"Content-Type": "application/json", "Accept-Language": "en", **(headers or {})}
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            raw = response.read()
            parsed = json.loads(raw) if raw and "json" in (response.getheader("Content-Type") or "") else None
            return Answer(response.status, {key.lower(): value for key, value in response.getheaders()}, parsed)
        finally:
            connection.close()

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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(server.server_port)
    finally:
        server.shutdown()
        thread.join(30)
        server.server_close()
