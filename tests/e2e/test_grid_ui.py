"""Grid physics in the browser: the power flow runs after each edit, its voltage and loading
layers appear on the map, the table says "power flow" for verified figures, and a violation
zooms the map to its place."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MAP_JS, open_app

pytestmark = pytest.mark.e2e

BUSES_JS = f"""() => {{
    const map = {MAP_JS}._fullLayout.map._subplot.map;
    return map.queryRenderedFeatures().filter(
        f => f.layer.type === 'circle' && f.properties && f.properties.bus !== undefined).length;
}}"""


def wait_verified(page, timeout_ms: int = 90_000) -> str:
    page.wait_for_function("() => document.querySelector('#grid-status').innerText"
                           ".startsWith('verified')", timeout=timeout_ms)
    return page.inner_text("#grid-status")


def loading_styles(page) -> list[str]:
    """Font style of every loading cell of the transformer table, once it has rows (the
    table re-renders its cells when new data arrives: reading at once can find none)."""
    cells = "#transformer-table td[data-dash-column='loading_pct']"
    page.wait_for_selector(cells, timeout=15_000)
    return page.eval_on_selector_all(cells, "els => els.map(e => getComputedStyle(e).fontStyle)")


def test_power_flow_layers_table_and_violations(page, app_url):
    open_app(page, app_url)
    page.click("#tab-transformers")
    status = wait_verified(page)
    assert "8,760 h" in status
    # verified rows upright, estimated ones italic
    assert set(loading_styles(page)) == {"normal"}
    assert "No limit broken" in page.inner_text("#grid-violations")
    page.wait_for_function(f"() => ({BUSES_JS})() > 50", timeout=30_000)
    assert "buses" in page.inner_text("#grid-legend")

    # lots of PV: the power flow runs again and finds the limits it breaks
    page.click("#tab-place")
    page.fill("#rule-min-roof", "100")
    page.click("#rule-apply")
    page.wait_for_function("() => /^[1-9]/.test(document.querySelector('#scenario-status')"
                           ".innerText)", timeout=60_000)
    page.click("#tab-transformers")
    page.wait_for_selector("#grid-violations .violation", timeout=90_000)
    wait_verified(page)
    loading = page.eval_on_selector_all(
        "#transformer-table td[data-dash-column='loading_pct']",
        "els => els.map(e => parseFloat(e.innerText))")
    assert max(loading) > 100
    first = page.inner_text("#grid-violations .violation >> nth=0")
    assert "rating" in first or "voltage" in first.lower()

    # a violation zooms the map to its place
    before = page.evaluate(f"() => {MAP_JS}._fullLayout.map.zoom")
    page.click("#grid-violations .violation >> nth=0")
    page.wait_for_function(f"() => {MAP_JS}._fullLayout.map.zoom > {before} + 1",
                           timeout=15_000)

    # the estimate colours come back on request, the legend says so
    page.click("#grid-layer >> text=estimate")
    page.wait_for_function("() => document.querySelector('#grid-legend').innerText"
                           ".includes('estimate')", timeout=15_000)
    page.wait_for_function(f"() => ({BUSES_JS})() === 0", timeout=15_000)


def text_of(page, selector: str) -> str:
    """Text of an element whether its tab is shown or not."""
    return page.eval_on_selector(selector, "e => e.textContent")


def test_an_earlier_scenarios_figures_are_never_shown_as_verified(page, app_url):
    import dashboard as dc
    from tests.e2e.conftest import click_map

    open_app(page, app_url)
    t = dc.load_district().transformers.iloc[0]
    click_map(page, t.geometry.x, t.geometry.y)
    page.wait_for_function("() => document.querySelector('#transformer-info').textContent"
                           ".includes('verified')", timeout=90_000)
    status = page.inner_text("#scenario-status")
    page.fill("#comm-kwh", "1000")
    page.fill("#comm-kw", "500")
    page.click("#comm-apply")
    page.wait_for_function(f"() => document.querySelector('#scenario-status').innerText !== "
                           f"{status!r}", timeout=15_000)
    # the edit's own answer already marks every power-flow figure as out of date (the
    # power flow starts only once edits pause for 1.5 s)
    assert "out of date" in text_of(page, "#transformer-info")
    page.click("#tab-transformers")
    grid = text_of(page, "#grid-status")
    assert not grid.startswith("verified") and "out of date" in grid, grid
    assert "being recomputed" in text_of(page, "#grid-violations")
    assert set(loading_styles(page)) == {"italic"}     # estimates, not verified figures
    assert page.evaluate(f"({BUSES_JS})()") == 0          # no voltages of the old scenario
    # then the power flow of this scenario (with its community battery) comes back
    page.wait_for_function("() => document.querySelector('#grid-status').textContent"
                           ".startsWith('verified')", timeout=90_000)
    page.click("#tab-place")
    page.wait_for_function("() => document.querySelector('#transformer-info').textContent"
                           ".includes('(verified')", timeout=30_000)
    assert "out of date" not in text_of(page, "#transformer-info")
