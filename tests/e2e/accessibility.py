"""axe-core in the page: the accessibility check of the browser tests, and their screenshots.

axe-core comes from the npm registry, pinned in ``tests/e2e/package.json`` and
its lock file, and is installed into ``tests/e2e/node_modules`` by ``make
install`` (``npm ci``). :func:`assert_accessible` loads it into the page as it
is now and fails on every violation of impact *serious* or *critical*, naming
the rule, what it asks for and the elements that break it. Rules are never
switched off here: a violation is fixed in the page.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from harness import ROOT
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
#: Impacts that fail a test; axe's "minor" and "moderate" findings are advice.
FAILING = ("serious", "critical")
#: Where the screenshots for docs/ go: set by `make screenshots`, unset otherwise.
SCREENSHOTS = "OMBUD_SCREENSHOTS"


def axe_violations(page: Page, *, within: str | None = None) -> list[dict[str, Any]]:
    """axe's violations on ``page`` (or inside the element ``within`` selects)."""
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: the accessibility checks need axe-core from "
            "tests/e2e/package.json (`make install` runs `npm ci` there)"
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE)
    found: list[dict[str, Any]] = page.evaluate(
        """async (within) => {
            const results = await axe.run(within ? document.querySelector(within) : document,
                                          {resultTypes: ["violations"]});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
            }));
        }""",
        within,
    )
    return found


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations as a report to read: rule, impact, help and each element."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            summary = " ".join(str(node["summary"] or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, within: str | None = None) -> None:
    """Fail when axe finds a serious or critical violation on ``page`` as it is now."""
    failing = [v for v in axe_violations(page, within=within) if v["impact"] in FAILING]
    assert not failing, f"axe-core on {page.url}:\n{describe(failing)}"


def screenshot(page: Page, name: str) -> Path | None:
    """Save ``page`` whole as ``<name>.png`` in the folder $OMBUD_SCREENSHOTS names, if it
    does (a path relative to the repository), in 256 colours to keep docs/ small."""
    folder = os.environ.get(SCREENSHOTS)
    if not folder:
        return None
    from PIL import Image  # noqa: PLC0415 - only `make screenshots` needs it (WeasyPrint's)

    path = ROOT / folder
    path.mkdir(parents=True, exist_ok=True)
    target = path / f"{name}.png"
    shot = page.screenshot(full_page=True, animations="disabled", caret="hide")
    with Image.open(io.BytesIO(shot)) as image:
        image.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(target, optimize=True)
    return target
