"""The screen a planner sees, at a projector's, a laptop's and a desktop's size.

For 1280×720, 1500×900 and 1920×1080: no horizontal overflow anywhere (page, KPI strip, side
panel with every tab, the transformer table), the controls used next in view without
scrolling, the map legend naming every colour drawn, presentation mode clean (no grid detail,
headline with investment, payback and CO₂) and left with Esc. Screenshots of each state are
saved (``DECENTRA_SCREENSHOTS``, default ``build/screenshots``) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard.figures.maps import LINE_CLASSES, VOLTAGE_CLASSES
from tests.e2e.conftest import MAP_JS, open_app

pytestmark = pytest.mark.e2e

SIZES = [(1280, 720), (1500, 900), (1920, 1080)]
SHOTS = Path(os.environ.get("DECENTRA_SCREENSHOTS",
                            Path(__file__).resolve().parents[2] / "build" / "screenshots"))
TABS = ["tab-place", "tab-suggest", "tab-transformers", "tab-details", "tab-assumptions",
        "tab-saved", "tab-export"]

OVERFLOW_JS = """() => {
    const out = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth + 1) out.push(['page', doc.scrollWidth]);
    for (const sel of ['.kpis', '.side-tab-content', '.map-toolbar', '.topbar',
                       '.line-legend', '#transformer-table .dash-spreadsheet-container']) {
        for (const el of document.querySelectorAll(sel)) {
            if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
                out.push([sel, el.scrollWidth, el.clientWidth]);
        }
    }
    return out;
}"""

IN_VIEW_JS = """(sel) => {
    const el = document.querySelector(sel);
    if (!el || el.offsetParent === null) return false;
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight
           && r.right <= window.innerWidth;
}"""


def in_view(page, selector: str) -> bool:
    return bool(page.evaluate(IN_VIEW_JS, selector))


def truncated_labels(page) -> list[str]:
    """KPI labels and values cut with an ellipsis (scrollWidth > clientWidth)."""
    return page.evaluate("""() => [...document.querySelectorAll(
            '.kpis .kpi-label, .kpis .kpi-value')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")


def place_pv(page) -> None:
    """PV on the district's larger roofs, so every layer and figure has content."""
    page.fill("#rule-min-roof", "100")
    page.click("#rule-apply")
    page.wait_for_function("() => /^[1-9]/.test(document.querySelector('#scenario-status')"
                           ".innerText)", timeout=60_000)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_screen_fits(browser, app_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        open_app(page, app_url)
        place_pv(page)
        size = f"{width}x{height}"
        # the toolbar: select tools and layers in view, without hovering anything
        for sel in ("#drag-mode", "#layers", "#color-by", "#undo", "#present",
                    "#rule-apply", "#tab-export", ".line-legend"):
            assert in_view(page, sel), f"{sel} not in view at {size}"
        assert truncated_labels(page) == [], f"cut KPI labels at {size}"
        cut_tabs = page.evaluate("""() => [...document.querySelectorAll('.side-tabs .tab')]
            .filter(t => t.scrollWidth > t.clientWidth).map(t => t.innerText)""")
        assert cut_tabs == [], f"cut tab labels at {size}: {cut_tabs}"
        # the legend has an entry for each colour of the grid drawn on the map (once the
        # power flow has verified the scenario)
        page.click("#tab-transformers")
        page.wait_for_function("() => /^verified/.test(document.querySelector('#grid-status')"
                               ".innerText)", timeout=120_000)
        page.click("#tab-place")
        legend = page.inner_text(".line-legend")
        for words in ("rooftop PV", "battery", "community battery", "within limits",
                      "limit broken"):
            assert words in legend, legend
        # a building selected: its PV and battery fields and buttons in view
        page.evaluate("() => window.dash_clientside.set_props('selection', "
                      "{data: {buildings: ['B002'], transformer: null}})")
        page.wait_for_selector("#bat-apply", state="visible", timeout=20_000)
        page.wait_for_timeout(500)
        for sel in ("#pv-apply", "#bat-apply", "#bat-remove"):
            assert in_view(page, sel), f"{sel} not in view at {size}"
        page.screenshot(path=str(SHOTS / f"place-{size}.png"))
        for tab in TABS:
            page.click(f"#{tab}")
            page.wait_for_timeout(700)
            if tab == "tab-transformers":
                page.wait_for_selector("#transformer-table td", timeout=30_000)
            if tab == "tab-export":
                assert in_view(page, "#report"), f"report button not in view at {size}"
            assert page.evaluate(OVERFLOW_JS) == [], f"overflow on {tab} at {size}"
            page.screenshot(path=str(SHOTS / f"{tab[4:]}-{size}.png"))
        # presentation: headline figures a council asks for, no grid detail, Esc leaves
        page.click("#present")
        page.wait_for_selector(".present-kpis .kpi", timeout=20_000)
        page.wait_for_timeout(1500)
        head = page.inner_text(".present-kpis")
        for words in ("Investment", "Payback", "CO₂ avoided", "Self-sufficiency"):
            assert words in head, head
        grid_layers = [n for n, _, _ in LINE_CLASSES] + [f"bus-{n}" for n, _, _ in VOLTAGE_CLASSES]
        hidden = page.evaluate(f"""(names) => {{
            const gd = {MAP_JS};
            const shown = gd.layout.map.layers.filter(
                l => l.visible !== false && names.includes(l.name)).map(l => l.name);
            const trafo = gd.data.find(t => t.name === 'Transformer');
            return [shown, trafo ? trafo.visible : null];
        }}""", grid_layers)
        assert hidden[0] == [] and hidden[1] is False, hidden
        assert page.evaluate(OVERFLOW_JS) == [], f"overflow in presentation at {size}"
        page.screenshot(path=str(SHOTS / f"present-{size}.png"))
        page.keyboard.press("Escape")
        page.wait_for_selector(".side", state="visible", timeout=10_000)
        assert not page.is_visible("#present-overlay")
    finally:
        context.close()
    assert errors == []
