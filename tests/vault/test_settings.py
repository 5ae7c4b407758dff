"""Settings: an embedded default that just runs, and a production mode that refuses to guess secrets."""

import stat

import pytest

from vault.settings import ConfigurationError, generate_secrets, load_settings


def test_embedded_default_keeps_everything_in_one_folder(tmp_path):
    settings = load_settings({"CONSIGNE_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'consigne.sqlite3'}"
    assert settings.storage_url == f"file://{tmp_path / 'blobs'}"
    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    again = load_settings({"CONSIGNE_DATA_DIR": str(tmp_path)})
    assert again.app_keys == settings.app_keys  # generated once, then kept
    assert settings.limits.max_file_bytes == 20 * 1024 * 1024


def test_production_refuses_missing_secrets(tmp_path):
    env = {"CONSIGNE_ENV": "production", "CONSIGNE_DATA_DIR": str(tmp_path),
           "CONSIGNE_DATABASE_URL": "postgresql+psycopg://u@db/c", "CONSIGNE_STORAGE_URL": "s3://a:b@s3:9000/c",
           "CONSIGNE_BASE_URL": "https://consigne.example.org"}
    with pytest.raises(ConfigurationError, match="CONSIGNE_PEPPERS"):
        load_settings(env)
    assert not (tmp_path / "secrets.json").exists()
    settings = load_settings(env | generate_secrets())
    assert settings.production
    with pytest.raises(ConfigurationError, match="fast KDF"):
        load_settings(env | generate_secrets() | {"CONSIGNE_KDF": "fast-insecure-for-tests"})


@pytest.mark.parametrize("name, value", [("CONSIGNE_APP_KEYS", "1:c2hvcnQ="), ("CONSIGNE_PEPPERS", "x"),
                                         ("CONSIGNE_QUOTA_MB", "lots")])
def test_malformed_values_are_clear_errors(tmp_path, name, value):
    env = {"CONSIGNE_DATA_DIR": str(tmp_path)} | generate_secrets() | {name: value}
    with pytest.raises(ConfigurationError):
        load_settings(env)


def test_processes_starting_together_on_a_new_data_folder_share_one_set_of_secrets(tmp_path):
    # Several processes (`consigne migrate`, workers) may start at once on a fresh data folder: none may
    # fail on a file another is writing, and all must end up with the same secrets.
    import threading

    starters = 8
    for attempt in range(10):
        folder = tmp_path / f"data-{attempt}"
        barrier = threading.Barrier(starters)
        results, errors = [], []

        def start():
            barrier.wait()
            try:
                results.append(load_settings({"CONSIGNE_DATA_DIR": str(folder)}).app_keys)
            except Exception as error:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(repr(error))

        threads = [threading.Thread(target=start) for _ in range(starters)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(results) == starters and all(keys == results[0] for keys in results)
        assert [path.name for path in folder.iterdir()] == ["secrets.json"]  # no temporary file left


def test_signing_keys_are_a_ring_and_the_single_key_of_before_is_still_read(tmp_path):
    import json

    from crypto.signing import SigningKey

    settings = load_settings({"CONSIGNE_DATA_DIR": str(tmp_path / "new")})
    ((key, created),) = settings.signing_keys.public_keys()
    assert created is not None and settings.signing_keys.current.verify_key == key
    old, new = SigningKey.generate(), SigningKey.generate()
    env = {"CONSIGNE_DATA_DIR": str(tmp_path / "env")} | generate_secrets()
    ring = load_settings(env | {"CONSIGNE_SIGNING_KEYS": f"2026-11-28={new.encode()},{old.encode()}"}).signing_keys
    assert ring.current.key_id == new.key_id and [k.key_id for k, _ in ring.public_keys()] == [new.key_id, old.key_id]
    del env["CONSIGNE_SIGNING_KEYS"]
    assert load_settings(env | {"CONSIGNE_SIGNING_KEY": old.encode()}).signing_keys.current.key_id == old.key_id
    # A secrets file written before the ring (one key under the old name) still opens.
    folder = tmp_path / "before"
    folder.mkdir(mode=0o700)
    written = generate_secrets()
    written["CONSIGNE_SIGNING_KEY"] = old.encode()
    del written["CONSIGNE_SIGNING_KEYS"]
    (folder / "secrets.json").write_text(json.dumps(written))
    assert load_settings({"CONSIGNE_DATA_DIR": str(folder)}).signing_keys.current.key_id == old.key_id
    with pytest.raises(ConfigurationError, match="CONSIGNE_SIGNING_KEYS"):
        load_settings(env | {"CONSIGNE_SIGNING_KEYS": "ed25519:nope"})


def _production(tmp_path, **changes):
    return {"CONSIGNE_ENV": "production", "CONSIGNE_DATA_DIR": str(tmp_path),
            "CONSIGNE_DATABASE_URL": "postgresql+psycopg://u@db/c", "CONSIGNE_STORAGE_URL": "s3://a:b@s3:9000/c",
            "CONSIGNE_BASE_URL": "https://consigne.example.org"} | generate_secrets() | changes


@pytest.mark.parametrize("name", ["prod", "Production", "staging", ""])
def test_an_unknown_environment_is_refused_rather_than_run_as_development(tmp_path, name):
    # A typo must not quietly run in development mode (secrets generated into a file, the fast KDF allowed).
    with pytest.raises(ConfigurationError, match="CONSIGNE_ENV must be 'development' or 'production'"):
        load_settings(_production(tmp_path, CONSIGNE_ENV=name))
    assert not (tmp_path / "secrets.json").exists()


@pytest.mark.parametrize("url", ["http://consigne.example.org", "http://10.0.0.5:8000", "ftp://consigne.example.org",
                                 "consigne.example.org", "https://", "https://consigne.example.org/?next=x",
                                 "http://localhost.example.org"])
def test_production_refuses_a_base_url_that_is_not_https(tmp_path, url):
    with pytest.raises(ConfigurationError, match="CONSIGNE_BASE_URL"):
        load_settings(_production(tmp_path, CONSIGNE_BASE_URL=url))


@pytest.mark.parametrize("url", ["https://consigne.example.org", "https://consigne.example.org:8443/",
                                 "http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_production_accepts_https_and_a_trial_on_this_machine(tmp_path, url):
    assert load_settings(_production(tmp_path, CONSIGNE_BASE_URL=url)).production


@pytest.mark.parametrize("name", ["FLASK_DEBUG", "CONSIGNE_DEBUG"])
def test_production_refuses_debug(tmp_path, name):
    with pytest.raises(ConfigurationError, match=name):
        load_settings(_production(tmp_path, **{name: "1"}))
    assert load_settings(_production(tmp_path, **{name: "0"})).production


@pytest.mark.parametrize("name", ["CONSIGNE_PEPPERS", "CONSIGNE_APP_KEYS", "CONSIGNE_SIGNING_KEYS"])
def test_a_malformed_secret_is_named(tmp_path, name):
    with pytest.raises(ConfigurationError, match=f"^{name} is malformed"):
        load_settings(_production(tmp_path, **{name: "not a key"}))
