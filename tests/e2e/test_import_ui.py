"""Bring your own city in the browser: bad files get their message and change nothing; a
GeoJSON of footprints alone becomes a working district after the user has seen the report."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from tests.e2e.conftest import (
    open_app,
    rendered_buildings,
    start_app,
    wait_kpi_change,
    wait_rendered_buildings,
)
from tests.importfiles import bubenec_footprints, zip_bytes

pytestmark = pytest.mark.e2e


def open_dialog(page) -> None:
    page.click("#import-open")
    page.wait_for_selector("#import-dialog", state="visible")


def upload(page, which: str, path: Path) -> None:
    page.set_input_files(f"#import-{which} input[type=file]", str(path))


def test_bad_files_are_refused_with_their_message(page, app_url, tmp_path):
    open_app(page, app_url)
    district = page.inner_text(".district-box")
    open_dialog(page)
    # not a recognised format: refused as soon as it arrives
    text = tmp_path / "notes.txt"
    text.write_text("this is not a map", encoding="utf-8")
    upload(page, "buildings", text)
    page.wait_for_selector("#import-buildings-info .import-error", timeout=20_000)
    assert "notes.txt: not a recognised format" in page.inner_text("#import-buildings-info")
    assert page.is_disabled("#import-run")
    # an archive that writes outside its folder
    evil = tmp_path / "evil.zip"
    evil.write_bytes(zip_bytes({"../../escape.geojson": b"{}"}))
    upload(page, "buildings", evil)
    page.wait_for_function("() => document.querySelector('#import-buildings-info')"
                           ".innerText.includes('zip-slip')", timeout=20_000)
    # points where footprints are needed: found by the import itself
    points = tmp_path / "trees.geojson"
    points.write_text(gpd.GeoDataFrame(geometry=[Point(14.40 + i * 1e-4, 50.10)
                                                 for i in range(5)], crs=4326).to_json(),
                      encoding="utf-8")
    upload(page, "buildings", points)
    page.wait_for_selector("#import-buildings-info .chip", timeout=20_000)
    page.click("#import-run")
    page.wait_for_selector("#import-result .import-error", timeout=60_000)
    message = page.inner_text("#import-result")
    assert "trees.geojson" in message and "point" in message.lower()
    assert "The current district is unchanged" in message
    # nothing changed: same district, the map still shows all its buildings
    page.click("#import-close")
    assert page.inner_text(".district-box") == district
    assert rendered_buildings(page) == 144


def test_footprints_alone_become_a_district_in_the_map(page, app_url, tmp_path):
    src = tmp_path / "Holesovice blocks.geojson"
    src.write_text(bubenec_footprints(60)[["geometry"]].to_json(), encoding="utf-8")
    open_app(page, app_url)
    open_dialog(page)
    upload(page, "buildings", src)
    page.wait_for_selector("#import-buildings-info .chip", timeout=20_000)
    page.fill("#import-name", "Holešovice test blocks")
    page.click("#import-run")
    page.wait_for_selector("#import-result .import-ok", timeout=120_000)
    report = page.inner_text("#import-result")
    assert "60 buildings" in report and "storeys: 60 assumed" in report
    assert "Attribute mapping".upper() in report.upper()
    # the current district is still on screen until the user opens the new one
    assert "Bubeneč" in page.inner_text(".district-box")
    page.click("#import-accept")
    page.wait_for_url("**/?district=*", timeout=30_000)
    open_app(page, page.url)
    assert "Holešovice test blocks" in page.inner_text(".district-box")
    assert "imported" in page.inner_text(".district-box").lower()
    assert wait_rendered_buildings(page, 60) == 60
    # and it works: PV by rule moves self-sufficiency
    page.click("#tab-place")
    before = page.inner_text("#kpi-self_sufficiency")
    page.fill("#rule-min-roof", "100")
    page.click("#rule-apply")
    after = wait_kpi_change(page, "self_sufficiency", before, timeout_ms=60_000)
    assert float(after.split()[0]) > 0


def test_files_over_the_size_cap_are_stopped_in_the_browser(browser, tmp_path):
    proc, url = start_app(tmp_path, env={"DECENTRA_MAX_UPLOAD_MB": "1"})
    try:
        page = browser.new_page(viewport={"width": 1500, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_app(page, url)
        open_dialog(page)
        big = tmp_path / "big.geojson"
        big.write_bytes(b" " * (3 * 2**20))
        upload(page, "buildings", big)
        page.wait_for_selector("#import-buildings-info .import-error", timeout=20_000)
        text = page.inner_text("#import-buildings-info")
        assert "big.geojson: the file is 3 MB; the limit is 1 MB" in text
        assert page.is_disabled("#import-run") and errors == []
        # a file under the cap still goes through
        small = tmp_path / "small.geojson"
        small.write_text(bubenec_footprints(5)[["geometry"]].to_json(), encoding="utf-8")
        upload(page, "buildings", small)
        page.wait_for_selector("#import-buildings-info .chip", timeout=20_000)
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
