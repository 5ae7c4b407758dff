"""Run the production serving set-up on 127.0.0.1: gunicorn with ops/serving/gunicorn.conf.py behind nginx
with ops/serving/nginx.conf.template, both as they are in production (only addresses and folders differ).

Used by the slow-client tests (tests/serving/) and by the benchmark (ops/bench.py). Every process started
here is stopped by its own id when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NGINX_TEMPLATE = HERE / "nginx.conf.template"
GUNICORN_CONFIG = HERE / "gunicorn.conf.py"
# The application's largest document (50 MiB, CONSIGNE_MAX_DOCUMENT_MB) plus 1 MiB of form fields.
DEFAULT_BODY_LIMIT = "51m"
# The same rule as the official nginx image's templates (20-envsubst-on-templates.sh): $NAME or ${NAME}
# whose name starts with the filter, replaced by its value.
PLACEHOLDER = re.compile(r"\$(\{)?(CONSIGNE_PROXY_\w*)(?(1)\})")
# Folders nginx would write request bodies or responses to (the template's *_temp_path).
TEMP_FOLDERS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
START_SECONDS = 60


class ServingError(RuntimeError):
    """A process of the set-up did not start; the message holds the end of its log."""


def render_nginx_config(values: Mapping[str, str], template: str | None = None) -> str:
    """The nginx configuration with every ``CONSIGNE_PROXY_*`` placeholder filled in from ``values``.

    A placeholder without a value is an error here (the image would leave it as is and nginx would then
    refuse an unknown variable); unused values are an error too, to catch a misspelt name.
    """
    text = NGINX_TEMPLATE.read_text() if template is None else template
    wanted = {match.group(2) for match in PLACEHOLDER.finditer(text)}
    if wanted != set(values):
        raise ValueError(f"the nginx template needs {sorted(wanted)}, given {sorted(values)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(2)], text)


def find_nginx() -> str | None:
    """nginx lives in /usr/sbin on Debian, which is not on an ordinary user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/sbin")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def http_get(url: str, *, timeout: float = 5.0, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` (gunicorn's or nginx's workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the parent id follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            children.append(int(entry.name))
    return sorted(children)


@dataclass
class Gunicorn:
    process: subprocess.Popen
    url: str
    log_path: Path

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)


@dataclass
class Proxy:
    process: subprocess.Popen
    url: str
    folder: Path
    log_path: Path
    config: str

    @property
    def temp_folder(self) -> Path:
        return self.folder / "temp"

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Stack:
    app: Gunicorn
    proxy: Proxy
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.proxy.url


@contextlib.contextmanager
def running_gunicorn(environment: Mapping[str, str], *, log_path: Path,
                     extra_arguments: Sequence[str] = ()) -> Iterator[Gunicorn]:
    """gunicorn with the production settings on a free port of 127.0.0.1, ready once /health answers."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", f"127.0.0.1:{port}",
               *extra_arguments]
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONSIGNE_")}
    env = {**inherited, **environment, "PYTHONPATH": str(ROOT)}
    with open(log_path, "ab") as log:  # appending: nginx opens /dev/stdout again, in append mode
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, url, log_path)
        yield Gunicorn(process=process, url=url, log_path=log_path)
    finally:
        _stop(process, signal.SIGTERM, grace_seconds=35)


@contextlib.contextmanager
def running_nginx(upstreams: Sequence[str], *, nginx: str, body_limit: str = DEFAULT_BODY_LIMIT,
                  template: str | None = None) -> Iterator[Proxy]:
    """nginx with the production template on a free port of 127.0.0.1, in a folder of its own.

    The folder is a new one under the system's temporary folder, readable by all: when this runs as
    root, nginx's workers run as an unprivileged user and must reach the temporary folders (nginx
    creates those itself, owned by that user), or a body nginx tried to write would fail instead of
    showing up. It is removed at the end.
    """
    folder = Path(tempfile.mkdtemp(prefix="consigne-proxy-"))
    folder.chmod(0o755)
    (folder / "temp").mkdir(mode=0o755)
    port = free_port()
    config = render_nginx_config({
        "CONSIGNE_PROXY_LISTEN": f"127.0.0.1:{port}",
        "CONSIGNE_PROXY_UPSTREAMS": " ".join(f"server {address};" for address in upstreams),
        "CONSIGNE_PROXY_TEMP": str(folder / "temp"),
        "CONSIGNE_PROXY_BODY_LIMIT": body_limit,
    }, template)
    config_path = folder / "nginx.conf"
    config_path.write_text(config)
    log_path = folder / "nginx.log"
    command = [nginx, "-p", str(folder), "-c", str(config_path), "-e", "stderr",
               "-g", f"daemon off; pid {folder / 'nginx.pid'};"]
    with open(log_path, "ab") as log:  # appending: nginx opens /dev/stdout again, in append mode
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, url, log_path)
        yield Proxy(process=process, url=url, folder=folder, log_path=log_path, config=config)
    finally:
        _stop(process, signal.SIGQUIT, grace_seconds=10)  # SIGQUIT: nginx's graceful shutdown
        shutil.rmtree(folder, ignore_errors=True)


CADDYFILE = ROOT / "ops" / "serving" / "Caddyfile"


@dataclass
class TlsProxy:
    process: subprocess.Popen
    url: str
    http_url: str
    root_certificate: Path  # Caddy's local authority (https://localhost only): what a client must trust
    log_path: Path


@contextlib.contextmanager
def running_caddy(upstream: str, *, caddy: str, folder: Path) -> Iterator[TlsProxy]:
    """Caddy with the production Caddyfile for https://localhost:<free port> in front of ``upstream``.

    For localhost Caddy issues the certificate from its own local authority (no ACME, no network); its
    state lives in ``folder``. It listens on 127.0.0.1 only.
    """
    folder.mkdir(parents=True, exist_ok=True)
    https_port, http_port = free_port(), free_port()
    url = f"https://localhost:{https_port}"
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "XDG_DATA_HOME": str(folder / "data"),
                   "XDG_CONFIG_HOME": str(folder / "config"), "CONSIGNE_BASE_URL": url,
                   "CONSIGNE_UPSTREAM": upstream, "CONSIGNE_TLS_BIND": "127.0.0.1",
                   "CONSIGNE_HTTPS_PORT": str(https_port), "CONSIGNE_HTTP_PORT": str(http_port)}
    log_path = folder / "caddy.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                                   env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    root = folder / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not root.exists() or not _answers_tls(https_port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServingError(f"caddy did not start (status {process.poll()}):\n" + _tail(log_path))
            time.sleep(0.2)
        yield TlsProxy(process=process, url=url, http_url=f"http://localhost:{http_port}", root_certificate=root,
                       log_path=log_path)
    finally:
        _stop(process, signal.SIGTERM, grace_seconds=10)


def _answers_tls(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running_stack(environment: Mapping[str, str], *, folder: Path, nginx: str,
                  gunicorn_arguments: Sequence[str] = (), template: str | None = None) -> Iterator[Stack]:
    """gunicorn behind nginx; the database must be migrated first (gunicorn refuses otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    with running_gunicorn(environment, log_path=folder / "gunicorn.log", extra_arguments=gunicorn_arguments) as app:
        upstream = app.url.removeprefix("http://")
        with running_nginx([upstream], nginx=nginx, template=template) as proxy:
            yield Stack(app=app, proxy=proxy, environment=dict(environment))


def gunicorn_settings(environment: Mapping[str, str], arguments: Sequence[str] = ()) -> dict:
    """What gunicorn makes of the production configuration in ``environment`` (``--print-config``, which
    also loads the application, so the database must be migrated)."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONSIGNE_")}
    printed = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), *arguments,
                              "--print-config"], cwd=ROOT, env={**inherited, **environment, "PYTHONPATH": str(ROOT)},
                             capture_output=True, text=True, timeout=60, check=True).stdout
    wanted = ("worker_class", "workers", "threads", "timeout")
    settings = {}
    for line in printed.splitlines():
        name, _, value = line.partition("=")
        if name.strip() in wanted:
            value = value.strip()
            settings[name.strip()] = int(value) if value.isdigit() else value
    return settings


def _wait_until_healthy(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServingError(f"{Path(process.args[0]).name} exited with status {process.returncode}:\n"
                               + _tail(log_path))
        try:
            status, _ = http_get(f"{url}/health", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise ServingError(f"{url}/health did not answer within {START_SECONDS} s:\n" + _tail(log_path))


def _stop(process: subprocess.Popen, first_signal: int, *, grace_seconds: float) -> None:
    if process.poll() is not None:
        return  # a master that has exited has already stopped its workers
    process.send_signal(first_signal)
    try:
        process.wait(timeout=grace_seconds)
        return
    except subprocess.TimeoutExpired:
        pass
    # Still running: end the process group this module started for it (the master and its workers;
    # the master has not been reaped, so the group's id is still ours).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
