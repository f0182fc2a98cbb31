"""The planning map in headless Chromium: the real app, real clicks, no network."""

from __future__ import annotations

import re

import pytest

import dashboard as dc
from tests.e2e.conftest import (
    MAP_JS,
    click_map,
    kpi_text,
    open_app,
    screen_point,
    wait_kpi_change,
    wait_rendered_buildings,
)

pytestmark = pytest.mark.e2e
MAP = "document.querySelector('#map .js-plotly-plot')"


@pytest.fixture(scope="module")
def points():
    d = dc.load_district()
    reps = d.buildings.geometry.representative_point()
    frame = d.buildings.assign(lon=reps.x, lat=reps.y).set_index("building_id")
    return frame.sort_values("roof_area_m2", ascending=False)


def click_building(page, points, bid):
    click_map(page, points.loc[bid, "lon"], points.loc[bid, "lat"])
    page.wait_for_function(f"() => document.querySelector('#panel-title').innerText === "
                           f"'Building {bid}'", timeout=15_000)


def test_page_draws_all_buildings(page, app_url):
    open_app(page, app_url)
    assert wait_rendered_buildings(page, 144) == 144
    assert kpi_text(page, "self_sufficiency") == "0.0 %"
    assert "Bubeneč" in page.inner_text(".topbar")
    # every KPI card carries its formula as a tooltip
    tips = page.eval_on_selector_all(".kpi", "els => els.map(e => e.dataset.tip)")
    assert len(tips) == 10 and all("=" in t for t in tips)


def snapshot(page):
    """All KPI texts and the scenario status line."""
    kpis = page.eval_on_selector_all(".kpi-value", "els => els.map(e => e.innerText)")
    return (tuple(kpis), page.inner_text("#scenario-status"))


def wait_snapshot_change(page, old, timeout_ms=20_000):
    page.wait_for_function(
        """old => {
            const k = [...document.querySelectorAll('.kpi-value')].map(e => e.innerText);
            const s = document.querySelector('#scenario-status').innerText;
            return JSON.stringify([k, s]) !== JSON.stringify(old);
        }""", arg=[list(old[0]), old[1]], timeout=timeout_ms)
    page.wait_for_timeout(300)  # let the last outputs of the round trip land
    return snapshot(page)


def test_click_add_pv_updates_kpis_and_undo_restores(page, app_url, points):
    open_app(page, app_url)
    bid = points.index[0]
    click_building(page, points, bid)
    assert float(page.input_value("#pv-kwp")) == pytest.approx(
        points.loc[bid, "pv_potential_kwp"], abs=0.1)
    empty = snapshot(page)
    page.click("#pv-apply")
    after = wait_kpi_change(page, "self_sufficiency", empty[0][0])
    assert float(after.split()[0]) > 0
    assert "1 PV" in page.inner_text("#scenario-status")
    with_pv = wait_snapshot_change(page, empty)
    page.fill("#bat-kwh", "400")
    page.fill("#bat-kw", "150")
    page.click("#bat-apply")
    with_battery = wait_snapshot_change(page, with_pv)
    assert "1 batteries" in with_battery[1]
    page.click("#undo")
    assert wait_snapshot_change(page, with_battery) == with_pv
    page.click("#undo")
    assert wait_snapshot_change(page, with_pv) == empty
    page.click("#redo")
    assert wait_snapshot_change(page, empty) == with_pv


def select_mode(page, label: str) -> None:
    page.click(f"#drag-mode >> text={label}")
    mode = {"Box": "select", "Lasso": "lasso"}[label]
    page.wait_for_function(f"() => {MAP_JS}._fullLayout.dragmode === {mode!r}",
                           timeout=15_000)


def test_box_selection_applies_to_several_buildings(page, app_url, points):
    open_app(page, app_url)
    # the Select tool under the map (always visible), then drag over a block
    select_mode(page, "Box")
    block = points.head(40)
    x0, y0 = screen_point(page, block["lon"].min(), block["lat"].max())
    x1, y1 = screen_point(page, block["lon"].max(), block["lat"].min())
    page.mouse.move(x0 - 5, y0 - 5)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1 + 5, y1 + 5, steps=5)
    page.mouse.up()
    page.wait_for_function("() => /\\d+ buildings/.test("
                           "document.querySelector('#panel-title').innerText)", timeout=15_000)
    count = int(re.match(r"(\d+)", page.inner_text("#panel-title")).group(1))
    assert count >= 5
    before = kpi_text(page, "self_sufficiency")
    page.click("#sel-pv-apply")
    wait_kpi_change(page, "self_sufficiency", before)
    status = page.inner_text("#scenario-status")
    assert int(re.match(r"(\d+) PV", status).group(1)) == count


def test_bad_value_is_refused_and_scenario_kept(page, app_url, points):
    open_app(page, app_url)
    bid = points.index[3]
    click_building(page, points, bid)
    page.fill("#pv-kwp", "99999")
    page.click("#pv-apply")
    page.wait_for_selector(".toast-body.error", timeout=10_000)
    assert "PV size [kWp] must be" in page.inner_text(".toast-body.error")
    assert kpi_text(page, "self_sufficiency") == "0.0 %"
    assert page.inner_text("#scenario-status").startswith("0 PV")
    page.fill("#bat-kwh", "-5")
    page.click("#bat-apply")
    page.wait_for_function("() => document.querySelector('.toast-body.error').innerText"
                           ".includes('Battery capacity')", timeout=10_000)
    assert page.inner_text("#scenario-status").startswith("0 PV · 0 batteries")
    # out-of-range numbers reach the server and get the bound they broke, not "no number"
    for field, value, button, expected in (("#pv-kwp", "-5", "#pv-apply", "PV size [kWp]"),
                                           ("#pv-tilt", "120", "#pv-apply", "at most 90"),
                                           ("#pv-azimuth", "400", "#pv-apply", "at most 360")):
        page.fill("#pv-kwp", "10")
        page.fill("#pv-tilt", "30")
        page.fill("#pv-azimuth", "180")
        page.fill(field, value)
        page.click(button)
        page.wait_for_function(
            f"() => [...document.querySelectorAll('.toast-body.error')].some(e => "
            f"e.innerText.includes({expected!r}))", timeout=10_000)
        assert "enter a number" not in page.inner_text("#message")
        assert page.inner_text("#scenario-status").startswith("0 PV · 0 batteries")


def test_rule_then_transformer_table_and_community_battery(page, app_url):
    open_app(page, app_url)
    before = kpi_text(page, "self_sufficiency")
    page.fill("#rule-min-roof", "300")
    page.click("#rule-apply")
    after = wait_kpi_change(page, "self_sufficiency", before, timeout_ms=60_000)
    assert float(after.split()[0]) > 10
    # the transformer table lists every transformer with its loading
    page.click("#tab-transformers")
    page.locator("#transformer-table td[data-dash-column='transformer_id']").nth(2).wait_for()
    names = page.eval_on_selector_all("#transformer-table td[data-dash-column='transformer_id']",
                                      "els => els.map(e => e.innerText)")
    assert names == dc.load_district().transformers["transformer_id"].tolist()
    # click a transformer on the map: the community battery panel opens
    d = dc.load_district()
    t = d.transformers.iloc[0]
    page.click("#tab-place")
    click_map(page, t.geometry.x, t.geometry.y)
    page.wait_for_function("() => document.querySelector('#panel-title').innerText === "
                           f"'Transformer {t['transformer_id']}'", timeout=15_000)
    status = page.inner_text("#scenario-status")
    page.fill("#comm-kwh", "500")
    page.fill("#comm-kw", "250")
    page.click("#comm-apply")
    page.wait_for_function(f"() => document.querySelector('#scenario-status').innerText !== "
                           f"{status!r}", timeout=15_000)
    assert "1 community" in page.inner_text("#scenario-status")


def test_colour_by_and_details_chart(page, app_url, points):
    open_app(page, app_url)
    page.click("#color-by")
    page.click("text=PV potential [kWp]")
    page.wait_for_function("() => document.querySelector('#legend-head').innerText === "
                           "'PV potential [kWp]'", timeout=10_000)
    top = float(page.inner_text(".class-item:last-child").split("–")[1].replace(",", ""))
    assert top >= points["pv_potential_kwp"].max()
    page.wait_for_timeout(1000)
    assert wait_rendered_buildings(page, 144) == 144
    bid = points.index[5]
    click_building(page, points, bid)
    page.click("#tab-details")
    page.wait_for_function(f"() => document.querySelector('#detail-title').innerText === "
                           f"'Building {bid}'", timeout=15_000)
    traces = page.evaluate("() => document.querySelector('#week-chart .js-plotly-plot')"
                           ".data.map(t => t.name)")
    assert "Demand" in traces and "PV" in traces


def test_lasso_selects_the_enclosed_buildings(page, app_url, points):
    open_app(page, app_url)
    select_mode(page, "Lasso")
    # a triangle over the middle of the district (clear of the map's overlays)
    lon_c, lat_c = points["lon"].median(), points["lat"].median()
    dx = (points["lon"].max() - points["lon"].min()) * 0.3
    dy = (points["lat"].max() - points["lat"].min()) * 0.3
    corners = [(lon_c - dx, lat_c - dy), (lon_c + dx, lat_c - dy), (lon_c, lat_c + dy)]
    xy = [screen_point(page, lon, lat) for lon, lat in corners]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in [*xy[1:], xy[0]]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    page.wait_for_function("() => /\\d+ buildings/.test("
                           "document.querySelector('#panel-title').innerText)", timeout=15_000)
    count = int(re.match(r"(\d+)", page.inner_text("#panel-title")).group(1))
    assert count >= 10
    page.fill("#sel-bat-kwh", "8")
    page.fill("#sel-bat-kw", "4")
    page.click("#sel-bat-apply")
    page.wait_for_function(f"() => document.querySelector('#scenario-status').innerText"
                           f".includes('{count} batteries')", timeout=15_000)
