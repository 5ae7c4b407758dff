"""The layers of DESIGN.md hold, checked with import-linter (contracts in pyproject.toml).

    web  ops  →  vault  →  storage  →  crypto

``vault`` never imports Flask, Werkzeug, pydantic or WTForms; ``crypto`` and ``storage`` never import
SQLAlchemy or ``vault``; ``crypto`` never imports ``storage``; ``web`` and ``ops`` do not import each
other except ``ops.cli.web_application`` creating the app. The second test plants one forbidden import
per contract in a copy of the code and checks that every contract then breaks, so this test can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crypto", "storage", "vault", "web", "ops")
CONTRACTS = 5
# One forbidden import per contract, each added at the end of a real module.
PLANTED = {
    "layers": ("vault/documents.py", "from web.errors import status_for", "vault.documents -> web.errors"),
    "web-ops": ("ops/orphans.py", "import web.errors", "ops.orphans -> web.errors"),
    "vault-without-http": ("vault/events.py", "import werkzeug.exceptions", "vault.events -> werkzeug"),
    "below-the-database": ("storage/names.py", "import sqlalchemy", "storage.names -> sqlalchemy"),
    "crypto-bytes-only": ("crypto/codes.py", "from storage.names import new_blob_name", "crypto.codes -> storage.names"),
}


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the packages found first on the path from ``folder`` (no cache written)."""
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as run; "
               "sys.exit(run())", "--config", str(folder / "pyproject.toml"), "--no-cache", "--no-logo"]
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=120)


def test_the_layer_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in result.stdout


def test_a_forbidden_import_breaks_each_contract(tmp_path):
    assert len(PLANTED) == CONTRACTS
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clean = lint_imports(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr  # the copy itself is analysed, and is clean

    for module, line, _ in PLANTED.values():
        with open(tmp_path / module, "a", encoding="utf-8") as source:
            source.write(f"\n{line}  # planted by tests/test_layers.py\n")
    broken = lint_imports(tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"Contracts: 0 kept, {CONTRACTS} broken." in broken.stdout, broken.stdout
    for _, _, reported in PLANTED.values():
        assert reported in broken.stdout, reported
