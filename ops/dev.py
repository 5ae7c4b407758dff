#!/usr/bin/env python3
"""The two set-up commands of the README, with nothing but Python >= 3.11 on the machine.

    python3 ops/dev.py run     # install into .venv, add demo data, serve on http://127.0.0.1:8000
    python3 ops/dev.py test    # install into .venv (with test tools), run every test lane

Installing is skipped when pyproject.toml has not changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".consigne-installed"


def ensure_installed() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Consigne needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing Consigne and its dependencies into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["-e", f"{ROOT}[test,production]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in {"run", "test"}:
        print(__doc__)
        return 2
    ensure_installed()
    if command == "run":
        subprocess.run([str(BIN / "consigne"), "migrate"], check=True, cwd=ROOT)
        subprocess.run([str(BIN / "consigne"), "demo"], check=True, cwd=ROOT)
        return subprocess.call([str(BIN / "consigne"), "serve", *sys.argv[2:]], cwd=ROOT)
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *sys.argv[2:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
