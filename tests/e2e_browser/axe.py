"""axe-core in the browser: every page a browser test visits is checked for WCAG 2.1 A/AA violations.

axe-core comes from npm (`tests/e2e_browser/package.json`, installed by `make test`). A serious or
critical violation fails the test with the rule, the help text and the offending elements.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.infra import unavailable

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@dataclass
class AxeLedger:
    """What was checked in this session, for the summary at the end of the run."""

    pages: list[dict] = field(default_factory=list)

    def record(self, label: str, url: str, violations: list[dict]) -> None:
        by_impact: dict[str, int] = {}
        for violation in violations:
            by_impact[violation.get("impact") or "none"] = by_impact.get(violation.get("impact") or "none", 0) + 1
        self.pages.append({"label": label, "url": url, "violations": by_impact})

    def write_report(self) -> None:
        """The pages checked and their violations by impact, as JSON, where `UWAGI_AXE_REPORT` says."""
        report = os.environ.get("UWAGI_AXE_REPORT")
        if report:
            Path(report).write_text(json.dumps(self.pages, ensure_ascii=False, indent=1), encoding="utf-8")

    def summary(self) -> str:
        blocking = sum(n for p in self.pages for impact, n in p["violations"].items() if impact in BLOCKING)
        other = sum(n for p in self.pages for impact, n in p["violations"].items() if impact not in BLOCKING)
        return f"axe-core: {len(self.pages)} page states checked, {blocking} serious/critical, {other} minor/moderate"


LEDGER = AxeLedger()


def axe_script() -> str:
    if not AXE_JS.exists():
        unavailable("axe-core", f"{AXE_JS} is missing (run: npm install --prefix tests/e2e_browser)")
    return AXE_JS.read_text(encoding="utf-8")


def page_html(page) -> str:
    """The page's HTML once its document has loaded.

    A click returns when the next page's navigation has committed, which can be before a byte of its body
    has been parsed (then `page.content()` is ''); waiting for the load event closes that gap.
    """
    page.wait_for_load_state("load")
    return page.content()


REFLOW_WIDTH = 320  # CSS pixels: WCAG 2.1 SC 1.4.10, a 1280 px window at 400 % zoom
STAFF_WIDTH = 1024  # a 1280 px laptop screen at 125 % zoom, as offices set them


def reflow_violations(page, width: int = REFLOW_WIDTH) -> list[dict]:
    """WCAG 1.4.10 Reflow, which axe-core does not test: at 320 CSS pixels a public page must not scroll sideways;
    nor may a staff page in a 1024 px window."""
    page.set_viewport_size({"width": width, "height": 640})
    found = page.evaluate("""() => {
        const limit = document.documentElement.clientWidth;  // the viewport less a scroll bar, if one takes room
        // a box beyond the window, or text overflowing its box (a long word in a narrow column)
        const beyond = e => e.getBoundingClientRect().right > limit + 1
            || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible');
        return {limit, width: document.documentElement.scrollWidth,
                nodes: Array.from(document.querySelectorAll('body *'))
                    .filter(e => beyond(e) && !Array.from(e.children).some(beyond)).slice(0, 5)
                    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': '
                              + (e.textContent || '').trim().slice(0, 40))};
    }""")
    if found["width"] <= found["limit"] + 1:
        return []
    return [{"id": "reflow", "impact": "serious", "help": f"the page is {found['width']} px wide in a {found['limit']} "
             f"px window at {width} px (WCAG 1.4.10 Reflow)", "nodes": found["nodes"]}]


def check_accessibility(page, label: str) -> list[dict]:
    """Run axe-core on the page as it is now; fail on serious or critical WCAG 2.1 A/AA violations.

    The pages are tested with JavaScript disabled (the no-JS promise), and axe needs timers, so the
    page's current HTML is replayed at the same URL in a script-enabled page of the same browser; its
    stylesheets load from the real server, so contrast is checked on the real rendering.
    """
    html, url = page_html(page), page.url
    viewport = page.viewport_size or {"width": 1280, "height": 900}
    checker = page.context.browser.new_context(java_script_enabled=True, viewport=viewport)
    try:
        mirror = checker.new_page()
        mirror.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
        mirror.goto(url, wait_until="load")
        mirror.evaluate(axe_script() + "\n;true")
        result = mirror.evaluate("""async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""", WCAG_TAGS)
        # residents read the public pages on phones (WCAG's 320 px); staff work at desks, on laptops often zoomed
        result += reflow_violations(mirror, REFLOW_WIDTH if label.startswith("public:") else STAFF_WIDTH)
    finally:
        checker.close()
    LEDGER.record(label, url, result)
    blocking = [v for v in result if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {label} ({url}):\n" + "\n".join(
        f"- {v['impact']}: {v['id']}: {v['help']} at {v['nodes']}" for v in blocking)
    return result
