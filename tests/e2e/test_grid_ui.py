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


def test_power_flow_layers_table_and_violations(page, app_url):
    open_app(page, app_url)
    page.click("#tab-transformers")
    status = wait_verified(page)
    assert "8,760 h" in status
    basis = page.eval_on_selector_all("#transformer-table td[data-dash-column='basis']",
                                      "els => els.map(e => e.innerText)")
    assert basis and set(basis) == {"power flow"}
    assert "No limit broken" in page.inner_text("#grid-violations")
    page.wait_for_function(f"() => ({BUSES_JS})() > 50", timeout=30_000)
    assert "Buses:" in page.inner_text("#grid-legend")

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
