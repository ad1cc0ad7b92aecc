"""axe-core in the page (vendored for the tests only: tests/e2e/vendor, see docs/WEB.md)."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SERIOUS = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """The serious and critical WCAG 2 A/AA violations axe finds in the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
        })"""
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], violations
