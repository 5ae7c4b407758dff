"""A one-node OpenStack Swift with s3api, tempauth and memcached, entirely under a temporary folder.

Unlike moto, Swift checks S3 signatures, so it is the lane that proves authentication really happens.
Everything (config, rings, data, logs) lives in one folder that is deleted at the end; every server
listens on 127.0.0.1 on a free port. Uses the Debian packages (swift 2.30 on bookworm).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.lanes import missing
from tests.servers.postgres import free_port
from tests.servers.s3_endpoint import S3Endpoint

ACCESS_KEY = "test:tester"
SECRET_KEY = "testing"
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
POLL_SECONDS = 0.1
LOG_TAIL_CHARACTERS = 3000
INSTALL_HINT = "apt-get install swift-proxy swift-account swift-container swift-object memcached"
PROGRAMS = ("swift-ring-builder", "swift-account-server", "swift-container-server", "swift-object-server",
            "swift-proxy-server", "memcached")
BACKENDS = ("account", "container", "object")
PROXY_PIPELINE = ("catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth "
                  "copy slo dlo versioned_writes symlink proxy-logging proxy-server")
PROXY_FILTERS = ("catch_errors", "gatekeeper", "healthcheck", "listing_formats", "copy", "slo", "dlo",
                 "versioned_writes", "symlink")


@contextlib.contextmanager
def running_swift() -> Iterator[S3Endpoint]:
    """Build, start and yield a Swift S3 endpoint (``test:tester`` / ``testing``); stop and delete it."""
    if any(shutil.which(program) is None for program in PROGRAMS):
        missing("OpenStack Swift", INSTALL_HINT)
    folder = Path(tempfile.mkdtemp(prefix="consigne-swift-"))
    processes: list[tuple[str, subprocess.Popen]] = []
    # Swift logs to syslog as well as to the console; this socket swallows those datagrams so a test run
    # never writes into the host's syslog.
    syslog_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        syslog_sink.bind(("127.0.0.1", 0))
        ports = _distinct_free_ports(["memcached", "proxy", *BACKENDS])
        user = _server_user()
        _write_configuration(folder, ports, user, syslog_sink.getsockname()[1])
        _build_rings(folder, ports)
        if os.geteuid() == 0:
            _chown_tree(folder, user)
        _start_servers(folder, ports, user, processes)
        _wait_until_ready(folder, ports, processes)
        yield S3Endpoint(f"http://127.0.0.1:{ports['proxy']}", ACCESS_KEY, SECRET_KEY, REGION)
    finally:
        _stop(processes)
        syslog_sink.close()
        shutil.rmtree(folder, ignore_errors=True)


def _distinct_free_ports(names: list[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for _attempt in range(20 * len(names)):
        if len(ports) == len(names):
            break
        port = free_port()
        if port not in ports.values():
            ports[names[len(ports)]] = port
    if len(ports) != len(names):
        raise RuntimeError("could not find enough distinct free ports on 127.0.0.1")
    return ports


def _server_user() -> str:
    if os.geteuid() == 0:
        # As root, each server drops its privileges to this user (the Debian packages create it).
        try:
            return pwd.getpwnam("swift").pw_name
        except KeyError:
            missing("the 'swift' system user", INSTALL_HINT)
    return pwd.getpwuid(os.geteuid()).pw_name


def _write_configuration(folder: Path, ports: dict[str, int], user: str, syslog_port: int) -> None:
    etc = folder / "etc"
    for sub in ("etc", "srv/d1", "logs"):
        (folder / sub).mkdir(parents=True)
    (etc / "swift.conf").write_text(
        "[swift-hash]\nswift_hash_path_prefix = consigne-test\nswift_hash_path_suffix = consigne-test\n\n"
        "[storage-policy:0]\nname = Policy-0\ndefault = yes\n")
    common = (f"[DEFAULT]\ndevices = {folder / 'srv'}\nmount_check = false\nbind_ip = 127.0.0.1\n"
              f"workers = 0\nswift_dir = {etc}\nuser = {user}\nlog_udp_host = 127.0.0.1\n"
              f"log_udp_port = {syslog_port}\n")
    for backend in BACKENDS:
        (etc / f"{backend}-server.conf").write_text(
            f"{common}bind_port = {ports[backend]}\n\n[pipeline:main]\npipeline = {backend}-server\n\n"
            f"[app:{backend}-server]\nuse = egg:swift#{backend}\n")
    filters = "".join(f"[filter:{name}]\nuse = egg:swift#{name}\n\n" for name in PROXY_FILTERS)
    (etc / "proxy-server.conf").write_text(
        f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {ports['proxy']}\nworkers = 0\nswift_dir = {etc}\n"
        f"user = {user}\nlog_udp_host = 127.0.0.1\nlog_udp_port = {syslog_port}\n\n"
        f"[pipeline:main]\npipeline = {PROXY_PIPELINE}\n\n"
        "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n"
        f"[filter:s3api]\nuse = egg:swift#s3api\nlocation = {REGION}\n\n"
        f"[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = {SECRET_KEY} .admin\n\n"
        f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{ports['memcached']}\n\n"
        "[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n\n"
        f"{filters}")


def _build_rings(folder: Path, ports: dict[str, int]) -> None:
    # The three rings are independent; building them side by side halves the start-up time on 2 cores.
    with ThreadPoolExecutor(max_workers=len(BACKENDS)) as pool:
        for future in [pool.submit(_build_ring, folder, backend, ports[backend]) for backend in BACKENDS]:
            future.result()


def _build_ring(folder: Path, backend: str, port: int) -> None:
    builder = str(folder / "etc" / f"{backend}.builder")
    for arguments in (["create", "8", "1", "1"], ["add", f"r1z1-127.0.0.1:{port}/d1", "1"], ["rebalance"]):
        result = subprocess.run(["swift-ring-builder", builder, *arguments], capture_output=True, text=True,
                                timeout=START_TIMEOUT_SECONDS, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"swift-ring-builder {' '.join(arguments)} failed:\n"
                               f"{result.stdout}{result.stderr}")


def _chown_tree(folder: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _start_servers(folder: Path, ports: dict[str, int], user: str,
                   processes: list[tuple[str, subprocess.Popen]]) -> None:
    """Start memcached and the four servers, appending each to ``processes`` as soon as it runs."""
    etc = folder / "etc"
    commands = [("memcached", ["memcached", "-l", "127.0.0.1", "-p", str(ports["memcached"]), "-U", "0",
                               "-m", "64", "-u", user])]
    commands += [(f"{name}-server", [f"swift-{name}-server", str(etc / f"{name}-server.conf"), "--verbose"])
                 for name in (*BACKENDS, "proxy")]
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    for name, command in commands:
        with open(folder / "logs" / f"{name}.log", "wb") as log:
            processes.append((name, subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                                     stderr=subprocess.STDOUT, env=environment,
                                                     start_new_session=True)))


def _wait_until_ready(folder: Path, ports: dict[str, int],
                      processes: list[tuple[str, subprocess.Popen]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    waiting_for = ["healthcheck", *BACKENDS]
    while waiting_for and time.monotonic() < deadline:
        exited = [name for name, process in processes if process.poll() is not None]
        if exited:
            _fail_start(folder, f"{', '.join(exited)} exited during start-up")
        if waiting_for[0] == "healthcheck":
            if _healthcheck_ok(ports["proxy"]):
                waiting_for.pop(0)
                continue
        elif _port_open(ports[waiting_for[0]]):
            waiting_for.pop(0)
            continue
        time.sleep(POLL_SECONDS)
    if waiting_for:
        _fail_start(folder, f"not ready after {START_TIMEOUT_SECONDS} s (waiting for {waiting_for[0]})")


def _healthcheck_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthcheck", timeout=1) as response:
            return response.status == 200 and response.read().strip() == b"OK"
    except OSError:
        return False


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _fail_start(folder: Path, reason: str) -> None:
    tails = []
    for log in sorted((folder / "logs").glob("*.log")):
        tails.append(f"--- {log.name} ---\n{log.read_text(errors='replace')[-LOG_TAIL_CHARACTERS:]}")
    message = f"OpenStack Swift did not start: {reason}\n" + "\n".join(tails)
    print(message, file=sys.stderr)
    raise RuntimeError(message)


def _stop(processes: list[tuple[str, subprocess.Popen]]) -> None:
    # Proxy first, memcached last: the reverse of the start order.
    for _name, process in reversed(processes):
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for _name, process in reversed(processes):
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
