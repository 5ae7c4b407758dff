"""One frozen settings object, built once from the environment at start-up.

Embedded default: with no configuration at all, Consigne keeps everything under one data directory (a
SQLite file, a local blob folder and a generated secrets file). In production (``CONSIGNE_ENV=production``)
every secret must come from the environment and a missing one stops start-up with a clear message:
a production instance must never silently invent its pepper.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from crypto.errors import CryptoError
from crypto.sealing import DEFAULT_KDF, FAST_KDF_FOR_TESTS, KdfParams, KeyRing, PepperRing
from crypto.signing import SigningKey, SigningRing

MIB = 1024 * 1024
SECRETS_FILE = "secrets.json"
# The data folder holds the SQLite database (usernames, sealed identities, the activity of each person),
# the secrets file and the encrypted blobs: readable by the user that runs Consigne and nobody else.
DATA_DIR_MODE = 0o700


class ConfigurationError(Exception):
    """The environment does not describe a runnable instance; the message says what to set."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MIB
    max_document_bytes: int = 50 * MIB
    max_files_per_document: int = 20
    quota_bytes: int = 500 * MIB


@dataclass(frozen=True)
class Timeouts:
    person_idle_seconds: int = 30 * 60
    staff_idle_seconds: int = 15 * 60
    absolute_seconds: int = 12 * 3600


@dataclass(frozen=True)
class Capacity:
    """Heavy work allowed at once per process (see vault/capacity.py), and how long a request waits."""

    kdf_slots: int = 1
    kdf_wait_seconds: float = 5.0
    media_slots: int = 1
    media_wait_seconds: float = 30.0


@dataclass(frozen=True)
class Reminders:
    """``consigne reminders`` and ``consigne retention`` (vault/reminders.py, vault/retention.py)."""

    notifier: str | None = None  # package.module:callable, told about expiring papers; None: only list
    unused_for: str = "3y"  # a vault unused this long is listed for review (3y, 18m, 400d)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    storage_url: str
    base_url: str
    peppers: PepperRing
    app_keys: KeyRing = field(repr=False)
    # Ed25519 keys signing the duplicates' statements: the newest signs, all are published (vault/duplicates).
    signing_keys: SigningRing = field(repr=False)
    production: bool = False
    kdf: KdfParams = DEFAULT_KDF
    limits: Limits = Limits()
    timeouts: Timeouts = Timeouts()
    capacity: Capacity = Capacity()
    trusted_proxies: int = 0
    log_format: str = "text"  # "json" in production: one object per line, with the request id (web/logs.py)
    reminders: Reminders = Reminders()


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "consigne"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    production = _environment_name(env) == "production"
    data_dir = Path(env.get("CONSIGNE_DATA_DIR") or default_data_dir(env)).expanduser().resolve()
    database_url = env.get("CONSIGNE_DATABASE_URL") or f"sqlite:///{data_dir / 'consigne.sqlite3'}"
    storage_url = env.get("CONSIGNE_STORAGE_URL") or f"file://{data_dir / 'blobs'}"
    if production:
        for name in ("CONSIGNE_DATABASE_URL", "CONSIGNE_STORAGE_URL", "CONSIGNE_BASE_URL"):
            if not env.get(name):
                raise ConfigurationError(f"{name} must be set when CONSIGNE_ENV=production")
        _refuse_danger_in_production(env)
    secrets_from_file = not production and not all(env.get(name) for name in SECRET_NAMES)
    if secrets_from_file or _inside(data_dir, database_url, storage_url):
        secure_data_dir(data_dir)
    secret_values = _read_secrets(env, data_dir, production)
    peppers = _parse_secret("CONSIGNE_PEPPERS", secret_values, PepperRing.parse)
    app_keys = _parse_secret("CONSIGNE_APP_KEYS", secret_values, lambda text: KeyRing.parse(text, "application key"))
    signing_keys = _parse_secret("CONSIGNE_SIGNING_KEYS", secret_values, SigningRing.parse)
    kdf_name = env.get("CONSIGNE_KDF", "default")
    if kdf_name not in {"default", "fast-insecure-for-tests"}:
        raise ConfigurationError("CONSIGNE_KDF must be 'default'")
    if kdf_name != "default" and production:
        raise ConfigurationError("the fast KDF is for tests only and refused in production")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        storage_url=storage_url,
        base_url=(env.get("CONSIGNE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        peppers=peppers,
        app_keys=app_keys,
        signing_keys=signing_keys,
        production=production,
        kdf=DEFAULT_KDF if kdf_name == "default" else FAST_KDF_FOR_TESTS,
        limits=Limits(
            max_file_bytes=_megabytes(env, "CONSIGNE_MAX_FILE_MB", 20),
            max_document_bytes=_megabytes(env, "CONSIGNE_MAX_DOCUMENT_MB", 50),
            quota_bytes=_megabytes(env, "CONSIGNE_QUOTA_MB", 500),
        ),
        capacity=Capacity(
            kdf_slots=_whole_number(env, "CONSIGNE_KDF_SLOTS", 1),
            kdf_wait_seconds=_whole_number(env, "CONSIGNE_KDF_WAIT_SECONDS", 5),
            media_slots=_whole_number(env, "CONSIGNE_MEDIA_SLOTS", 1),
            media_wait_seconds=_whole_number(env, "CONSIGNE_MEDIA_WAIT_SECONDS", 30),
        ),
        trusted_proxies=_whole_number(env, "CONSIGNE_TRUSTED_PROXIES", 0, minimum=0),
        log_format=_log_format(env, production),
        reminders=_reminders(env),
    )


def _reminders(env: Mapping[str, str]) -> Reminders:
    from vault.retention import Period

    unused_for = env.get("CONSIGNE_RETENTION_UNUSED_FOR") or Reminders.unused_for
    try:
        Period.parse(unused_for)
    except ValueError as error:
        raise ConfigurationError(f"CONSIGNE_RETENTION_UNUSED_FOR: {error}") from None
    notifier = (env.get("CONSIGNE_REMINDER_NOTIFIER") or "").strip() or None
    if notifier is not None and notifier.count(":") != 1:
        raise ConfigurationError("CONSIGNE_REMINDER_NOTIFIER is written package.module:callable")
    return Reminders(notifier=notifier, unused_for=unused_for)


SECRET_NAMES = ("CONSIGNE_PEPPERS", "CONSIGNE_APP_KEYS", "CONSIGNE_SIGNING_KEYS")
ENVIRONMENTS = ("development", "production")
# Hosts where plain HTTP is still acceptable in production: a trial on the operator's own machine, where
# no traffic leaves it. Anywhere else a recovery sheet would print an address that sends passwords in clear.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEBUG_VARIABLES = ("FLASK_DEBUG", "CONSIGNE_DEBUG")


def _log_format(env: Mapping[str, str], production: bool) -> str:
    name = env.get("CONSIGNE_LOG_FORMAT", "json" if production else "text")
    if name not in ("json", "text"):
        raise ConfigurationError(f"CONSIGNE_LOG_FORMAT must be 'json' or 'text', not {name!r}")
    return name


def _environment_name(env: Mapping[str, str]) -> str:
    """``CONSIGNE_ENV``, refused when unknown: a typo (``prod``) must not quietly run in development mode,
    with secrets generated into a file and the fast test KDF allowed."""
    name = env.get("CONSIGNE_ENV", "development")
    if name not in ENVIRONMENTS:
        raise ConfigurationError(f"CONSIGNE_ENV must be 'development' or 'production', not {name!r}")
    return name


def _refuse_danger_in_production(env: Mapping[str, str]) -> None:
    """One clear line for each setting that would make production unsafe."""
    base_url = env["CONSIGNE_BASE_URL"].strip()
    parsed = urlsplit(base_url)
    try:
        host = parsed.hostname
    except ValueError:
        host = None
    if parsed.scheme != "https" and not (parsed.scheme == "http" and host in LOOPBACK_HOSTS):
        raise ConfigurationError("CONSIGNE_BASE_URL must start with https:// in production (it is printed on "
                                 "recovery sheets, and cookies are Secure only on https); plain http is "
                                 f"accepted only for localhost, not {base_url!r}")
    if not host or parsed.query or parsed.fragment:
        raise ConfigurationError(f"CONSIGNE_BASE_URL must be the site's address, like https://consigne.example.org, "
                                 f"not {base_url!r}")
    for name in DEBUG_VARIABLES:
        if env.get(name, "").strip().lower() not in ("", "0", "false", "no", "off"):
            raise ConfigurationError(f"{name} must be off in production (a debugger runs code for whoever sees it)")


def generate_secrets() -> dict[str, str]:
    """Fresh values for every secret, in the environment's encoding (used by ``consigne secrets``)."""
    return {
        "CONSIGNE_PEPPERS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "CONSIGNE_APP_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        # A ring of one key, dated: rotating later puts a new dated key in front (crypto.signing.SigningRing).
        "CONSIGNE_SIGNING_KEYS": f"{date.today().isoformat()}={SigningKey.generate().encode()}",
    }


def _read_secrets(env: dict[str, str], data_dir: Path, production: bool) -> dict[str, str]:
    present = {name: env[name] for name in SECRET_NAMES if env.get(name)}
    if "CONSIGNE_SIGNING_KEYS" not in present and env.get("CONSIGNE_SIGNING_KEY"):
        present["CONSIGNE_SIGNING_KEYS"] = env["CONSIGNE_SIGNING_KEY"]  # one key, set before the ring
    if len(present) == len(SECRET_NAMES):
        return present
    if production:
        missing = ", ".join(name for name in SECRET_NAMES if name not in present)
        raise ConfigurationError(f"missing secrets for production: {missing} (generate them with `consigne secrets`)")
    # Embedded default: secrets generated once and kept beside the data, readable by this user only.
    # Fine on a laptop; in production they live in the environment, away from the database backups.
    # (The data folder was made private by load_settings before this.)
    path = data_dir / SECRETS_FILE
    if not path.exists():
        _write_new_secrets(path)
    stored = json.loads(path.read_text())
    if "CONSIGNE_APP_KEYS" not in stored and "CONSIGNE_APP_KEY" in stored:
        stored["CONSIGNE_APP_KEYS"] = "1:" + stored["CONSIGNE_APP_KEY"]  # written before the key ring
    if "CONSIGNE_SIGNING_KEYS" not in stored and "CONSIGNE_SIGNING_KEY" in stored:
        stored["CONSIGNE_SIGNING_KEYS"] = stored["CONSIGNE_SIGNING_KEY"]  # one undated key, before the ring
    return {name: present.get(name, stored[name]) for name in SECRET_NAMES}


def _write_new_secrets(path: Path) -> None:
    """Write fresh secrets to ``path`` unless another process does it first.

    Several processes may start at once on a new data folder (``consigne migrate`` and the server, or
    several workers): the file is written whole under a temporary name and then linked into place, which
    fails when another process got there first; that process's secrets are then the ones everybody
    reads. No process ever reads a half-written file or keeps secrets that were replaced.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(generate_secrets(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)


def secure_data_dir(data_dir: Path) -> None:
    """Create the data folder 0700, or bring an existing one back to 0700.

    ``mkdir(mode=…)`` alone is not enough: it does nothing to a folder that already exists (made by an
    older version, a package, or by hand under a 0022 umask: 0755), and that was the reported failure.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=DATA_DIR_MODE)
        if not data_dir.is_dir():
            raise ConfigurationError(f"the data folder {data_dir} is not a folder")
        if stat.S_IMODE(data_dir.stat().st_mode) != DATA_DIR_MODE:
            os.chmod(data_dir, DATA_DIR_MODE)
    except FileExistsError:
        raise ConfigurationError(f"the data folder {data_dir} is not a folder") from None
    except PermissionError:
        raise ConfigurationError(f"the data folder {data_dir} must belong to the user running Consigne "
                                 "(it is made readable by that user only)") from None


def _inside(data_dir: Path, database_url: str, storage_url: str) -> bool:
    """True when the database or the blob store lives in the data folder (the defaults do)."""
    paths = []
    if database_url.startswith("sqlite:///"):
        paths.append(database_url.split("///", 1)[1].split("?", 1)[0])
    if storage_url.startswith("file://"):
        paths.append(storage_url[len("file://"):])
    for raw in paths:
        if raw and raw != ":memory:" and Path(os.path.abspath(raw)).is_relative_to(data_dir):
            return True
    return False


def _parse_secret(name: str, values: dict[str, str], parse):
    """Parse one secret; a malformed one is named in the error, its value never shown."""
    try:
        return parse(values[name])
    except (CryptoError, ValueError) as error:
        raise ConfigurationError(f"{name} is malformed: {error}") from None


def _whole_number(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise ConfigurationError(f"{name} must be a whole number, at least {minimum}")
    return int(raw)


def _megabytes(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default * MIB
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number of megabytes") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive")
    return value * MIB
