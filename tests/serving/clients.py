"""HTTP clients for the serving tests, on raw sockets where timing matters: a paced sender (a weak mobile
link), a stalled sender (one byte every few seconds), and plain JSON and multipart requests.

Every client here is bounded: a socket timeout on every read, a fixed number of bytes, and a stop event
that the test sets before it ends.
"""

from __future__ import annotations

import http.client
import io
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

MIB = 1024 * 1024


def address_of(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname, parsed.port


def json_request(url: str, method: str, path: str, body: dict | None = None, *, token: str | None = None,
                 timeout: float = 30.0, source: str = "127.0.0.1") -> tuple[int, dict | bytes]:
    """One request on a fresh connection; the body as JSON when the answer is JSON."""
    host, port = address_of(url)
    connection = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0))
    headers = {"Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.getheader("Content-Type", "").split(";")[0].endswith("json"):
            return response.status, json.loads(data)
        return response.status, data
    finally:
        connection.close()


def sign_up_and_in(url: str, username: str, password: str = "banc-essai-mesure-77") -> str:
    status, created = json_request(url, "POST", "/api/v1/people", {"username": username, "password": password})
    assert status == 201, created
    status, session = json_request(url, "POST", "/api/v1/sessions", {"username": username, "password": password})
    assert status == 201, session
    return session["token"]


def multipart_upload(fields: dict[str, str], file_name: str, content_type: str, content: bytes) -> tuple[str, bytes]:
    """(Content-Type header, body) of a form with ``fields`` and one file, as a browser sends it."""
    boundary = "consigne-" + secrets.token_hex(12)
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
               f"Content-Type: {content_type}\r\n\r\n".encode())
    body.write(content)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", body.getvalue()


def request_head(method: str, path: str, url: str, headers: dict[str, str]) -> bytes:
    host, port = address_of(url)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Accept-Language: en", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one response: its head, then Content-Length bytes (or up to the close when there is none).

    A server that refused a body before reading it may reset the connection once it gave up waiting
    for that body (nginx, after lingering_timeout): the answer is complete by then and is returned.
    """
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a whole response head: {raw[:200]!r}")
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"]) if "content-length" in headers else None
    chunks = [body]
    received = len(body)
    while length is None or received < length:
        chunk = sock.recv(1024 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    return int(status_line.split()[1]), headers, b"".join(chunks)


@dataclass
class PacedSend:
    """The result of sending a request at a fixed rate."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body)


def send_paced(url: str, head: bytes, body: bytes, *, bytes_per_second: int, timeout: float = 120.0,
               tick_seconds: float = 0.1, source: str = "127.0.0.1") -> PacedSend:
    """Send ``head`` then ``body`` at ``bytes_per_second`` (a weak link), then read the answer."""
    started = time.monotonic()
    per_tick = max(1, int(bytes_per_second * tick_seconds))
    with socket.create_connection(address_of(url), timeout=timeout, source_address=(source, 0)) as sock:
        sock.sendall(head)
        sent = 0
        while sent < len(body):
            sock.sendall(body[sent:sent + per_tick])
            sent += per_tick
            # Keep to the schedule from the start (not tick by tick), so delays do not add up.
            delay = started + (sent / bytes_per_second) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        status, headers, answer = read_response(sock)
    return PacedSend(status, headers, answer, time.monotonic() - started)


@dataclass
class StalledClients:
    """Connections that send a request one byte every ``interval`` seconds, until ``stop()``.

    ``declared_length`` > 0: the request head goes at once, declaring a body of that size, and the body
    trickles. 0: the request head itself trickles (a client that never finishes its headers).
    """

    url: str
    sources: list[str]
    per_source: int
    declared_length: int
    interval: float = 2.0
    path: str = "/api/v1/sessions"
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    bytes_sent: int = 0
    ended_by_server: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "StalledClients":
        for source in self.sources:
            for _ in range(self.per_source):
                sock = socket.create_connection(address_of(self.url), timeout=10, source_address=(source, 0))
                self.sockets.append(sock)
                thread = threading.Thread(target=self._trickle, args=(sock,), daemon=True)
                self._threads.append(thread)
                thread.start()
        return self

    def _trickle(self, sock: socket.socket) -> None:
        if self.declared_length:
            head = request_head("POST", self.path, self.url, {"Content-Type": "application/json",
                                                              "Content-Length": str(self.declared_length)})
            sock.sendall(head)
            pending = b"{" + b" " * (self.declared_length - 1)
        else:
            pending = request_head("POST", self.path, self.url, {"Content-Type": "application/json"})
        for byte in pending:
            if self._stop.wait(self.interval):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the server gave up on this connection (its timeout): that is allowed
                with self._lock:
                    self.ended_by_server += 1
                return
            with self._lock:
                self.bytes_sent += 1

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.interval + 5)
        for sock in self.sockets:
            sock.close()

    def __enter__(self) -> "StalledClients":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def photo_of_size(size: int) -> bytes:
    """A JPEG of at least ``size`` bytes, like a phone's photo of a paper (noise keeps it from shrinking)."""
    from PIL import Image

    side = int((size / 0.95) ** 0.5)  # grey noise at quality 95 takes a little over a byte per pixel
    while True:
        width, height = side * 4 // 3, side * 3 // 4  # 4:3, as phones take them
        noise = Image.frombytes("L", (width, height), secrets.token_bytes(width * height)).convert("RGB")
        output = io.BytesIO()
        noise.save(output, format="JPEG", quality=95)
        if output.tell() >= size:
            return output.getvalue()
        side += side // 20
