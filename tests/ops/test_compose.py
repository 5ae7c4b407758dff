"""docker-compose.yml and the image: migrations are one step that the instances wait for, and the proxy runs
the same template as the serving tests. No Docker engine runs here: the file is checked by Debian's
``docker-compose config -q`` and read as YAML."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ops.serving.loopback import DEFAULT_BODY_LIMIT, NGINX_TEMPLATE, ROOT, render_nginx_config
from tests.lanes import require_program

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "ops" / "Dockerfile"
# What the README tells an operator to put in .env (values are placeholders).
DOCUMENTED_ENV = {
    "POSTGRES_PASSWORD": "change-me", "MINIO_ROOT_USER": "consigne", "MINIO_ROOT_PASSWORD": "change-me-too",
    "CONSIGNE_BASE_URL": "https://consigne.example.org",
    "CONSIGNE_PEPPERS": "1:AAAA", "CONSIGNE_APP_KEYS": "1:AAAA", "CONSIGNE_SIGNING_KEYS": "AAAA",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def consigne_instances(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items()
            if service.get("image") == "consigne:local" and "command" not in service}


def test_docker_compose_accepts_the_file(tmp_path):
    program = require_program("docker-compose", "docker-compose")
    inherited = {name: value for name, value in os.environ.items() if name not in DOCUMENTED_ENV}
    checked = subprocess.run([program, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=tmp_path,
                             env={**inherited, **DOCUMENTED_ENV}, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    # And it says what is missing instead of starting half-configured
    missing = subprocess.run([program, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=tmp_path, env=inherited,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr


def test_migrations_run_once_before_every_instance(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["consigne", "migrate"]
    assert migrate["restart"] == "no"  # one shot: a failure stays visible instead of looping
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    instances = consigne_instances(compose)
    assert len(instances) >= 2
    for name, service in instances.items():
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert "command" not in service, name  # the image's own command: gunicorn, never a migration
        assert service["environment"] == migrate["environment"], name


def test_the_image_starts_gunicorn_with_the_production_settings_and_never_migrates():
    command = re.search(r"^CMD (.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE).group(1)
    assert "migrate" not in command
    assert command == '["gunicorn", "-c", "ops/serving/gunicorn.conf.py"]'
    assert (ROOT / "ops" / "serving" / "gunicorn.conf.py").is_file()


def test_the_proxy_runs_the_tested_template(compose):
    proxy = compose["services"]["proxy"]
    assert "./ops/serving/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro" in proxy["volumes"]
    environment = proxy["environment"]
    assert environment["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"  # the template is the whole nginx.conf
    values = {name: str(value) for name, value in environment.items() if name.startswith("CONSIGNE_PROXY_")}
    config = render_nginx_config(values)  # every placeholder has a value, and no value is unused
    assert values["CONSIGNE_PROXY_BODY_LIMIT"] == DEFAULT_BODY_LIMIT
    for name in consigne_instances(compose):
        assert f"server {name}:8000;" in config
    # Should nginx ever write a body, it would be to memory (the tests show it does not write at all).
    assert values["CONSIGNE_PROXY_TEMP"] in proxy["tmpfs"]
    assert "${" not in re.sub(r"#.*", "", config)
    assert Path(NGINX_TEMPLATE).is_file()


def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        if image == "consigne:local":
            continue
        assert ":" in image and not image.endswith(":latest"), name


def test_instances_have_a_healthcheck_on_health_and_the_proxy_waits_for_it(compose):
    instances = consigne_instances(compose)
    for name, service in instances.items():
        assert "http://127.0.0.1:8000/health" in " ".join(service["healthcheck"]["test"]), name
    waits = compose["services"]["proxy"]["depends_on"]
    assert {name: waits[name]["condition"] for name in instances} == {name: "service_healthy" for name in instances}


def test_the_image_has_the_fonts_the_sheets_read():
    # Debian's fonts-dejavu-core installs /usr/share/fonts/truetype/dejavu, the first folder vault/sheets.py reads.
    from vault.sheets import FONT_FOLDERS

    assert "fonts-dejavu-core" in DOCKERFILE.read_text()
    assert FONT_FOLDERS[0] == Path("/usr/share/fonts/truetype/dejavu")


def test_the_documented_bootstrap_needs_no_env_file():
    # compose refuses to run before .env exists, so the secrets are made with plain docker.
    header = COMPOSE_FILE.read_text().split("x-consigne-environment")[0]
    assert "docker run --rm consigne:local consigne secrets > .env" in header
    assert "docker compose run --rm --no-deps consigne-1 consigne secrets" not in header  # the circular one


def test_tls_is_the_only_door_and_the_application_counts_both_proxies(compose):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"tls"}  # nginx and the instances are reachable only from inside
    tls = services["tls"]
    assert "./ops/serving/Caddyfile:/etc/caddy/Caddyfile:ro" in tls["volumes"]
    assert tls["environment"]["CONSIGNE_UPSTREAM"] == f"proxy:{services['proxy']['environment']['CONSIGNE_PROXY_LISTEN']}"
    caddyfile = (ROOT / "ops" / "serving" / "Caddyfile").read_text()
    assert "{$CONSIGNE_BASE_URL}" in caddyfile and "{$CONSIGNE_UPSTREAM" in caddyfile
    # Caddy, then nginx, each add one X-Forwarded-For hop.
    assert services["migrate"]["environment"]["CONSIGNE_TRUSTED_PROXIES"] == "2"


def test_the_scheduler_runs_the_periodic_jobs_with_the_same_environment(compose):
    scheduler = compose["services"]["scheduler"]
    assert scheduler["command"] == ["consigne", "scheduler"]
    assert scheduler["environment"] == compose["services"]["migrate"]["environment"]
    assert scheduler["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_environment_names_are_those_the_settings_read():
    # Every CONSIGNE_ variable compose sets is one vault/settings.py (or the proxies' templates) reads.
    from vault import settings as settings_module

    read = set(re.findall(r"CONSIGNE_[A-Z_]+", Path(settings_module.__file__).read_text()))
    read |= set(re.findall(r"CONSIGNE_[A-Z_]+", (ROOT / "ops" / "serving" / "Caddyfile").read_text()))
    read |= set(re.findall(r"CONSIGNE_PROXY_[A-Z_]+", Path(NGINX_TEMPLATE).read_text()))
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        for variable in environment:
            if variable.startswith("CONSIGNE_"):
                assert variable in read, (name, variable)
