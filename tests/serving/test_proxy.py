"""The front proxy keeps papers in memory and bounds what a client can make it hold.

Runs the production template (ops/serving/nginx.conf.template) with Debian's nginx in front of gunicorn
with the production settings. Each "control" test starts the same template with one safeguard taken out
and shows that nginx then writes to disk and that the watch sees it: so the watch can fail, and the
safeguard is what keeps the disk clean.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

from ops.serving.loopback import DEFAULT_BODY_LIMIT, NGINX_TEMPLATE, render_nginx_config, running_nginx
from tests.serving.clients import (
    MIB,
    StalledClients,
    address_of,
    json_request,
    multipart_upload,
    photo_of_size,
    read_response,
    request_head,
    sign_up_and_in,
)
from tests.serving.disk import TempFolderWatch
from vault.settings import load_settings
from web.app import FORM_FIELDS_MEMORY

BODY_LIMIT_BYTES = 51 * MIB  # DEFAULT_BODY_LIMIT


def directives(config: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", config, flags=re.MULTILINE)


def without(template: str, pattern: str) -> str:
    """The production template with the lines matching ``pattern`` removed (for the control tests)."""
    changed, count = re.subn(pattern, "", template, flags=re.MULTILINE)
    assert count, f"{pattern!r} is no longer in the template: update the control test"
    return changed


@pytest.fixture(scope="module")
def token(stack) -> str:
    return sign_up_and_in(stack.url, "photos")


def test_an_accepted_body_always_fits_the_memory_buffer(tmp_path):
    config = render_nginx_config({"CONSIGNE_PROXY_LISTEN": "127.0.0.1:8000", "CONSIGNE_PROXY_UPSTREAMS": "server a:1;",
                                  "CONSIGNE_PROXY_TEMP": "/tmp/x", "CONSIGNE_PROXY_BODY_LIMIT": DEFAULT_BODY_LIMIT})
    assert directives(config, "client_max_body_size") == directives(config, "client_body_buffer_size") == ["51m"]
    assert directives(config, "proxy_request_buffering") == ["on"]
    assert directives(config, "proxy_max_temp_file_size") == ["0"]
    assert directives(config, "client_body_in_file_only") == []
    # The proxy's limit is the application's: the largest document plus the form fields.
    settings = load_settings({"CONSIGNE_DATA_DIR": str(tmp_path)})
    assert settings.limits.max_document_bytes + FORM_FIELDS_MEMORY == BODY_LIMIT_BYTES


def test_the_largest_body_allowed_stays_in_memory(stack, token):
    # Given a form of exactly the largest size the proxy accepts
    content_type, body = multipart_upload({"kind": "autre"}, "scan.jpg", "image/jpeg", b"")
    content_type, body = multipart_upload({"kind": "autre"}, "scan.jpg", "image/jpeg",
                                          b"\xff" * (BODY_LIMIT_BYTES - len(body)))
    assert len(body) == BODY_LIMIT_BYTES
    # When it is sent through the proxy
    with TempFolderWatch(stack.proxy) as watch:
        status, headers, answer = send_whole(stack.url, "/api/v1/documents", content_type, body, token)
    # Then the application answers it (its own problem JSON: the file is over the 20 MiB per-file limit),
    # and nginx wrote nothing to disk on the way
    assert (status, headers["content-type"]) == (413, "application/problem+json"), answer[:300]
    assert not watch.evidence.written, watch.evidence


def test_control_a_smaller_buffer_would_write_the_body_to_disk(stack, token, nginx_program):
    template = NGINX_TEMPLATE.read_text().replace("client_body_buffer_size ${CONSIGNE_PROXY_BODY_LIMIT};",
                                                  "client_body_buffer_size 1m;")
    content_type, body = multipart_upload({"kind": "autre"}, "scan.jpg", "image/jpeg", b"\xff" * (3 * MIB))
    with running_nginx([stack.app.url.removeprefix("http://")], nginx=nginx_program, template=template) as proxy:
        with TempFolderWatch(proxy) as watch:
            send_whole(proxy.url, "/api/v1/documents", content_type, body, token)
    assert watch.evidence.open_files or watch.evidence.changed_folders
    assert watch.evidence.warnings


def test_a_body_over_the_limit_is_refused_before_it_is_read(stack, token):
    with socket.create_connection(address_of(stack.url), timeout=10) as sock:
        sock.sendall(request_head("POST", "/api/v1/documents", stack.url, {
            "Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(BODY_LIMIT_BYTES + 1)}))
        status, _, _ = read_response(sock)  # no byte of the body was sent
    assert status == 413


CHUNK_EXTENSION = b";note=" + b"a" * (1024 * 1024)  # chunk extensions: allowed by HTTP/1.1, unbounded


def chunked_body(chunks: int) -> bytes:
    """A chunked body whose data is small (``chunks`` x 4 KiB) but whose framing is ``chunks`` MiB."""
    data = b"x" * 4096
    return b"".join(b"1000" + CHUNK_EXTENSION + b"\r\n" + data + b"\r\n" for _ in range(chunks)) + b"0\r\n\r\n"


def send_chunked(url: str, chunks: int) -> int:
    with socket.create_connection(address_of(url), timeout=30) as sock:
        sock.sendall(request_head("POST", "/api/v1/sessions", url, {"Content-Type": "application/json",
                                                                    "Transfer-Encoding": "chunked"}))
        try:
            sock.sendall(chunked_body(chunks))
        except OSError:  # refused before the body: nginx may close while we still send
            pass
        return read_response(sock)[0]


def test_a_chunked_body_is_refused(stack):
    with TempFolderWatch(stack.proxy) as watch:
        status = send_chunked(stack.url, 60)
    assert status == 411
    assert not watch.evidence.written, watch.evidence


def test_control_a_chunked_body_would_reach_the_disk_despite_the_buffer(stack, nginx_program):
    # 240 KiB of data, far under the 51 MiB limit, but 60 MiB of chunk framing fill the buffer first.
    template = without(NGINX_TEMPLATE.read_text(), r"^\s*if \(\$refused_transfer_encoding\) \{\n.*\n\s*\}\n")
    with running_nginx([stack.app.url.removeprefix("http://")], nginx=nginx_program, template=template) as proxy:
        with TempFolderWatch(proxy) as watch:
            send_chunked(proxy.url, 60)
    assert watch.evidence.written, "nginx kept a chunked body in memory: the refusal may no longer be needed"


def test_a_paper_downloaded_slowly_stays_in_memory(stack, token):
    document_id = upload(stack.url, token, photo_of_size(12 * MIB))
    with TempFolderWatch(stack.proxy) as watch:
        content = download_slowly(stack.url, token, document_id)
    assert content == download_slowly(stack.app.url, token, document_id, pause_seconds=0)
    assert not watch.evidence.written, watch.evidence


def test_control_without_the_response_limit_a_slow_download_would_be_written(stack, token, nginx_program):
    document_id = upload(stack.url, token, photo_of_size(12 * MIB))
    template = without(NGINX_TEMPLATE.read_text(), r"^\s*proxy_max_temp_file_size 0;\n")
    with running_nginx([stack.app.url.removeprefix("http://")], nginx=nginx_program, template=template) as proxy:
        with TempFolderWatch(proxy) as watch:
            download_slowly(proxy.url, token, document_id)
    assert watch.evidence.written


def test_large_bodies_are_bounded_per_address_but_others_still_upload(stack, token):
    # Given eight uploads from one address that declare 1 MiB and stall after their headers
    with StalledClients(stack.url, ["127.0.0.9"], per_source=8, declared_length=1 * MIB, interval=5,
                        path="/api/v1/documents"):
        time.sleep(1)  # let nginx read their headers
        # When a ninth large upload comes from that address, it is refused at once (no memory taken)
        content_type, body = multipart_upload({"kind": "autre"}, "p.jpg", "image/jpeg", photo_of_size(200_000))
        status, _, _ = send_whole(stack.url, "/api/v1/documents", content_type, body, token, source="127.0.0.9")
        assert status == 503
        # Then a person at another address uploads normally, and small requests from the first pass
        status, _, answer = send_whole(stack.url, "/api/v1/documents", content_type, body, token,
                                       source="127.0.0.10")
        assert status == 201, answer
        assert json_request(stack.url, "GET", "/health", source="127.0.0.9")[0] == 200


def send_whole(url: str, path: str, content_type: str, body: bytes, token: str, *,
               source: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(address_of(url), timeout=60, source_address=(source, 0)) as sock:
        sock.sendall(request_head("POST", path, url, {"Authorization": f"Bearer {token}", "Content-Type": content_type,
                                                      "Content-Length": str(len(body))}))
        try:
            sock.sendall(body)
        except OSError:  # answered before the whole body was taken
            pass
        return read_response(sock)


def upload(url: str, token: str, photo: bytes) -> str:
    content_type, body = multipart_upload({"kind": "autre"}, "photo.jpg", "image/jpeg", photo)
    status, _, answer = send_whole(url, "/api/v1/documents", content_type, body, token)
    assert status == 201, answer
    import json

    return json.loads(answer)["id"]


def download_slowly(url: str, token: str, document_id: str, *, pause_seconds: float = 3.0) -> bytes:
    """Ask for a paper, take nothing for ``pause_seconds`` (a stalled phone), then read it all.

    A small receive buffer keeps the kernel from taking the paper in nginx's place.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.settimeout(60)
    with sock:
        sock.connect(address_of(url))
        sock.sendall(request_head("GET", f"/api/v1/documents/{document_id}/content", url,
                                  {"Authorization": f"Bearer {token}"}))
        time.sleep(pause_seconds)
        status, _, body = read_response(sock)
    assert status == 200
    return body


def test_one_request_id_in_the_proxys_log_the_answer_and_the_applications_logs(stack):
    # nginx makes the id, logs it in its JSON access log and hands it to gunicorn; the answer carries it,
    # so the line a person reads out to a helpdesk points at both logs. No query string is logged.
    import json
    import urllib.request

    with urllib.request.urlopen(f"{stack.url}/ready?token=do-not-log-me", timeout=10) as answer:
        request_id = answer.headers["X-Request-Id"]
        assert answer.status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    deadline = time.monotonic() + 10
    while request_id not in stack.proxy.log() and time.monotonic() < deadline:
        time.sleep(0.1)  # nginx writes its access line once the answer is sent
    lines = [json.loads(line) for line in stack.proxy.log().splitlines()
             if line.startswith("{") and request_id in line]
    assert len(lines) == 1
    assert lines[0]["path"] == "/ready" and lines[0]["status"] == 200 and lines[0]["method"] == "GET"
    assert "do-not-log-me" not in stack.proxy.log()
