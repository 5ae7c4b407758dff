"""gunicorn's settings for Consigne, behind the nginx of ops/serving/nginx.conf.template.

Used as is by the image (``gunicorn -c ops/serving/gunicorn.conf.py``), by the slow-client tests and by
the benchmark; options given on the command line (``--bind``) take precedence over these.

Why these values (README, "How production serves"; figures from ``python -m ops.bench``):
- nginx hands over whole requests only, so a request occupies a gunicorn thread for the time of the work
  alone (database, S3, cleaning a file), never for the time a client takes to send it.
- The work is mostly waiting (database, S3) plus bounded heavy parts (Argon2id, decoding) that
  vault/capacity.py runs on its own lower-priority threads, a few per process. Threads (``gthread``) let
  a listing go ahead while sign-ins wait for their slot; processes only add copies of the same gates on
  the same cores: one worker per core.
- No upload is ever written to disk on the way: nginx keeps bodies in memory, and so does the
  application (web/app.py InMemoryUploadRequest).
"""

import ctypes
import ctypes.util
import os

# glibc's malloc serves blocks under a threshold from its heap, and raises that threshold as large
# blocks are freed: after a few uploads, a 40 MiB request body or decoded page lands in the heap and its
# pages stay with the worker. A fixed 128 KiB threshold keeps every large buffer in its own mapping,
# returned to the system when freed: a worker's peak during an upload drops from about 3x the document
# to about 2x (measured in tests/web/test_upload_memory.py). Set here, in the master, before the
# workers fork, so that every worker inherits it; M_MMAP_THRESHOLD is -3 in glibc's malloc.h.
M_MMAP_THRESHOLD = -3
LARGE_BUFFER_THRESHOLD = 128 * 1024


def _keep_large_buffers_out_of_the_heap() -> None:
    library = ctypes.util.find_library("c")
    if library is None:
        return
    libc = ctypes.CDLL(library)
    if hasattr(libc, "mallopt"):  # glibc; musl and others manage large blocks their own way
        libc.mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER_THRESHOLD)


_keep_large_buffers_out_of_the_heap()


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise RuntimeError(f"{name} must be a whole number, at least 1")
    return int(raw)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "web.wsgi:app"
bind = os.environ.get("CONSIGNE_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# One process per core: Argon2id and decoding are bounded per process (CONSIGNE_KDF_SLOTS,
# CONSIGNE_MEDIA_SLOTS), so more processes than cores only queue more heavy work on the same cores.
workers = _whole_number("CONSIGNE_WORKERS", _cores())
# Threads mostly wait: on the database, on S3, or for a gate slot (a sign-in waits up to
# CONSIGNE_KDF_WAIT_SECONDS). They must outnumber the sign-ins that can be waiting at once, or those take
# every thread and a listing queues behind them: with 24 connections signing in without pause and
# Argon2id on the gate, 2 workers x 8 threads made listing 200 papers 20-60x slower than idle, 2 x 16 kept
# it within 2x (python -m ops.bench --sign-in-clients 24; README). A waiting thread costs little; one
# holding an upload costs a few times the document, and nginx lets at most 32 large bodies through at once.
threads = _whole_number("CONSIGNE_THREADS", 16)
# A worker whose main loop is silent this long is replaced (a stuck C extension); requests themselves
# are bounded by nginx's proxy_read_timeout and the gates' waits.
timeout = 60
# On restart, requests in flight (an upload being encrypted) get this long to finish.
graceful_timeout = 30
# nginx opens one connection per request (HTTP/1.0 upstream): keep-alive never applies.
keepalive = 2
# Workers are replaced now and then, so that memory fragmented by large uploads is given back.
max_requests = 2000
max_requests_jitter = 200
# The application is loaded in each worker, after the fork: every worker builds its own database pool
# and work-gate threads (nothing shared across a fork).
preload_app = False
# The heartbeat file in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# nginx logs the requests; gunicorn logs its own events and the application's errors.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CONSIGNE_LOG_LEVEL", "info")
# Trust X-Forwarded-* from nginx only through the application's own setting (CONSIGNE_TRUSTED_PROXIES).
forwarded_allow_ips = ""
# No control socket (gunicorn 24+): it would be one path per user, shared by every instance on the host,
# and nothing here uses it. Older versions ignore the name.
control_socket_disable = True


def on_starting(server):
    """Refuse to start, with one clear line, on a bad configuration, a database out of reach or an outdated schema.

    The schema is never upgraded here: ``consigne migrate`` is one explicit step, run once before the
    instances start (compose's ``migrate`` service). Without this check each worker would fail to
    import the application with a traceback and gunicorn would only say "Worker failed to boot".
    gunicorn prints a RuntimeError raised here as ``Error: <message>`` and exits with status 1.
    """
    from sqlalchemy.exc import OperationalError

    from vault.db import SchemaNotCurrent, make_engine, require_current_schema, unreachable_database
    from vault.settings import ConfigurationError, load_settings

    try:
        settings = load_settings()
    except ConfigurationError as error:
        raise RuntimeError(f"consigne: configuration error: {error}") from None
    engine = make_engine(settings.database_url)
    try:
        require_current_schema(engine)
    except SchemaNotCurrent as error:
        raise RuntimeError(f"consigne: {error}") from None
    except OperationalError as error:  # down, refusing, wrong password: say which, without a traceback
        raise RuntimeError(f"consigne: {unreachable_database(settings.database_url, error)}") from None
    finally:
        engine.dispose()
