"""Every pictogram a page, a kind of paper or a line of the activity names was fetched by ops/icons.py,
with its licence."""

from __future__ import annotations

import re
from pathlib import Path

from ops.icons import ICONS
from vault.activity import PICTOGRAMS as ACTIVITY_PICTOGRAMS
from vault.kinds import KINDS
from vault.purposes import PRESETS
from web.pages.rendering import ICONS as ICON_FOLDER
from web.pages.rendering import pictogram

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
NAMED = re.compile(r"""(?:pictogram\(|icon_name=|promise\()\s*["']([a-z0-9-]+)["']""")


def names_in_templates() -> set[str]:
    names = set()
    for template in TEMPLATES.rglob("*.html"):
        names |= set(NAMED.findall(template.read_text(encoding="utf-8")))
    return names


def test_every_pictogram_used_is_fetched_and_on_disk():
    used = (names_in_templates() | {kind.pictogram for kind in KINDS} | ACTIVITY_PICTOGRAMS
            | {purpose.pictogram for purpose in PRESETS})
    assert used, "no pictogram found in the templates"
    assert used <= set(ICONS), sorted(used - set(ICONS))
    assert set(ICONS) <= used, f"fetched but never used: {sorted(set(ICONS) - used)}"
    for name in ICONS:
        svg = (ICON_FOLDER / f"{name}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg") and "<script" not in svg and "on" not in re.findall(r"\s(on)\w+=", svg)
    assert "ISC License" in (ICON_FOLDER / "LICENSE").read_text(encoding="utf-8")


def test_a_decorative_pictogram_is_hidden_and_a_meaningful_one_is_named():
    assert 'aria-hidden="true"' in pictogram("lock") and 'focusable="false"' in pictogram("lock")
    named = pictogram("triangle-alert", label="Expired")
    assert 'role="img"' in named and 'aria-label="Expired"' in named and "aria-hidden" not in named
