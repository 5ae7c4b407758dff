"""A sign-in load: ``clients`` connections each signing in again as soon as answered, for ``seconds``.

    python -m ops.serving.load http://127.0.0.1:8000 USERNAME... --seconds 20 --clients 8

Started by the benchmark (ops/serving/benchmark.py) in a process of its own, against the production set-up
on 127.0.0.1 only (the accounts it signs in with were made by the benchmark, with its password). Prints
one JSON line: answers by status, sign-ins per second, and the latency of the successful ones.
"""

from __future__ import annotations

import argparse
import http.client
import io
import ipaddress
import json
import secrets
import socket
import statistics
import sys
import threading
import time
from urllib.parse import urlparse

PASSWORD = "banc-essai-mesure-77"


class Client:
    """One keep-alive HTTP connection, as a browser or a partner's client keeps one."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        parsed = urlparse(url)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port, timeout
        self.token: str | None = None
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, body: bytes | None = None, content_type: str | None = None
                ) -> tuple[int, bytes]:
        headers = {"Accept-Language": "en"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._connection.request(method, path, body=body, headers=headers)
                response = self._connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection: open another, once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload: dict | None = None, *, expect: int = 200) -> dict:
        status, data = self.request(method, path, body=None if payload is None else json.dumps(payload).encode(),
                                    content_type=None if payload is None else "application/json")
        if status != expect:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:300]!r}")
        return json.loads(data) if data else {}

    def upload(self, content: bytes, file_name: str, *, title: str | None = None) -> dict:
        boundary = "bench-" + secrets.token_hex(8)
        body = io.BytesIO()
        fields = {"kind": "autre", **({"title": title} if title else {})}
        for name, value in fields.items():
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                   "Content-Type: application/pdf\r\n\r\n".encode())
        body.write(content)
        body.write(f"\r\n--{boundary}--\r\n".encode())
        status, data = self.request("POST", "/api/v1/documents", body=body.getvalue(),
                                    content_type=f"multipart/form-data; boundary={boundary}")
        if status != 201:
            raise RuntimeError(f"upload answered {status}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def percentiles(milliseconds: list[float]) -> dict:
    ordered = sorted(milliseconds)
    return {"requests": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.serving.load", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("usernames", nargs="+")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--clients", type=int, required=True)
    arguments = parser.parse_args(argv)
    # A load generator aims at a set-up of one's own on this machine, never at anyone else's server.
    if not ipaddress.ip_address(socket.gethostbyname(urlparse(arguments.url).hostname or "")).is_loopback:
        parser.error("the load only goes to a server on this machine's loopback (127.0.0.0/8)")
    deadline = time.monotonic() + arguments.seconds
    answers: dict[str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def keep_signing_in(number: int) -> None:
        client = Client(arguments.url, timeout=60)
        username = arguments.usernames[number % len(arguments.usernames)]
        body = {"username": username, "password": PASSWORD}
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status, _ = client.request("POST", "/api/v1/sessions", body=json.dumps(body).encode(),
                                       content_type="application/json")
            with lock:
                answers[str(status)] = answers.get(str(status), 0) + 1
                if status == 201:
                    latencies.append((time.perf_counter() - started) * 1000)
        client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=keep_signing_in, args=(number,)) for number in range(arguments.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    signed_in = answers.get("201", 0)
    figures = {"seconds": round(elapsed, 1), "answers": answers, "per_second": round(signed_in / elapsed, 2),
               **({"p50_ms": None, "p95_ms": None} if not latencies else
                  {k: v for k, v in percentiles(latencies).items() if k != "requests"})}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
