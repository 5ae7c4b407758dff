"""Fetch the pictograms the pages use from a pinned release of Lucide (ISC licence) on the npm registry.

    .venv/bin/python -m ops.icons          # rewrite web/static/icons/ from lucide-static@VERSION

Why a script and not drawings: well-kept open pictograms are tested by many eyes for legibility, and a
pinned version with its published integrity hash means the same files every time. The icons are
committed, so running the site needs no network; run this again only to add an icon or change version.
Only the icons named in ICONS are written (plus the licence), never the whole set.

It downloads with ``npm pack`` (the registry's ordinary client), checks the tarball against the
integrity hash published for that version, and reads the files straight from the tarball in memory.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "lucide-static"
VERSION = "1.62.0"
# From ``npm view lucide-static@1.62.0 dist.integrity``: the tarball must match it byte for byte.
INTEGRITY = "sha512-WBZA/m2PvkFpMGHDtsBck5P2A9G4ehLlYu4GwwICcmEm1BvYVgj00lCDxKRWLlbMlOibLaiwdQ88G5pHkSWgwA=="
ROOT = Path(__file__).resolve().parent.parent
DESTINATION = ROOT / "web" / "static" / "icons"

# Every pictogram a page or a kind of paper names (vault/kinds.py, web/templates/**). The test
# tests/web/test_icons.py checks that each one named in the code is here and on disk.
ICONS = (
    # kinds of papers
    "id-card", "book-user", "stamp", "baby", "users", "heart-pulse", "hand-coins", "mailbox", "receipt",
    "landmark", "banknote", "car", "stethoscope", "file",
    # what Consigne is and is not
    "lock", "key-round", "eye", "history", "mail-x", "shield-check", "building-2", "user-check", "timer",
    # actions and states
    "camera", "file-up", "download", "trash-2", "printer", "log-out", "log-in", "user-plus",
    "smartphone", "life-buoy", "house", "triangle-alert", "circle-check", "circle-alert", "clock",
    "arrow-right", "arrow-left", "circle-help", "plus", "hand-heart",
    # purposes (vault/purposes.py), shown when sharing, asking and making a copy
    "briefcase",
    # the activity (vault/activity.py names them; the API returns the same names)
    "pencil", "shield-off", "shield-alert", "info", "lock-keyhole",
    # consent in the activity (vault/activity_consent.py), a deposit
    "user-minus", "inbox", "circle-x", "file-plus", "copy",
    # settings
    "settings", "monitor-smartphone",
)
NAME = re.compile(r"^[a-z0-9-]+$")
LICENCE_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)


def fetch_tarball(folder: Path) -> bytes:
    subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", str(folder)],
                   check=True, cwd=folder, stdout=subprocess.DEVNULL, timeout=300)
    data = (folder / f"{PACKAGE}-{VERSION}.tgz").read_bytes()
    algorithm, _, expected = INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{PACKAGE}@{VERSION}: the tarball does not match its published integrity hash")
    return data


def compact_svg(text: str) -> str:
    """One line, without the per-file licence comment (the full licence sits beside the icons)."""
    text = LICENCE_COMMENT.sub("", text)
    return " ".join(text.split()).replace("> <", "><") + "\n"


def write_icons(tarball: Path, destination: Path = DESTINATION) -> list[str]:
    destination.mkdir(parents=True, exist_ok=True)
    for old in destination.glob("*.svg"):
        old.unlink()
    written = []
    with tarfile.open(tarball, "r:gz") as archive:
        licence = archive.extractfile("package/LICENSE").read().decode()
        (destination / "LICENSE").write_text(
            f"Pictograms from {PACKAGE} {VERSION} (https://lucide.dev), fetched by ops/icons.py.\n\n{licence}",
            encoding="utf-8")
        for name in ICONS:
            if not NAME.match(name):
                raise SystemExit(f"not an icon name: {name!r}")
            member = archive.extractfile(f"package/icons/{name}.svg")
            (destination / f"{name}.svg").write_text(compact_svg(member.read().decode()), encoding="utf-8")
            written.append(name)
    return written


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        fetch_tarball(Path(folder))
        written = write_icons(Path(folder) / f"{PACKAGE}-{VERSION}.tgz")
    print(f"{len(written)} icons from {PACKAGE} {VERSION} written to {DESTINATION.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
