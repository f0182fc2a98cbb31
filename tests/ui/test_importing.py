"""The import dialog's logic without a browser: staging uploads, telling grid files apart, the
import itself, and which district a page opens on."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.importer import feeder_file_kind
from dashboard.io.formats import Limits
from dashboard.io.staging import safe_name, stage_upload, staged_file, sweep
from dashboard.store import ScenarioStore
from dashboard.ui import state
from dashboard.ui.app import resolve_page
from dashboard.ui.importing.logic import district_url, run_import
from tests.importfiles import bubenec_footprints, zip_bytes

pytestmark = pytest.mark.usefixtures("bound_cache")


def data_url(raw: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def test_stage_upload_writes_the_bytes_under_a_random_token(tmp_path):
    staged = stage_upload(data_url(b'{"a": 1}'), "city.geojson", tmp_path)
    path = staged_file(tmp_path, staged.token)
    assert path.read_bytes() == b'{"a": 1}' and path.name == "city.geojson"
    assert staged.size_bytes == 8 and len(staged.token) == 32
    other = stage_upload(data_url(b"x"), "city.geojson", tmp_path)
    assert other.token != staged.token


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\me\\b.gpkg", "b.gpkg"),
    (".hidden", "hidden"), ("", "upload"), (None, "upload"), ("a<b>|c.json", "a_b__c.json")])
def test_file_names_cannot_leave_the_staging_folder(name, expected):
    assert safe_name(name) == expected


def test_bad_uploads_are_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(DecentraError, match="empty"):
        stage_upload("", "a.geojson", tmp_path)
    with pytest.raises(DecentraError, match="not readable"):
        stage_upload("data:application/json;base64,@@@not base64@@@", "a.geojson", tmp_path)
    with pytest.raises(DecentraError, match="limit is 1 MB"):
        stage_upload(data_url(b"0" * (2 * 2**20)), "big.geojson", tmp_path,
                     Limits(max_file_bytes=2**20))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("token", ["../x", "0" * 31, None, 5, "g" * 32])
def test_tokens_from_the_browser_are_checked(tmp_path, token):
    with pytest.raises(DecentraError, match="upload"):
        staged_file(tmp_path, token)


def test_old_uploads_are_swept(tmp_path):
    staged = stage_upload(data_url(b"x"), "a.json", tmp_path)
    sweep(tmp_path, now=time.time() + 2 * 24 * 3600)
    with pytest.raises(DecentraError, match="no longer on the server"):
        staged_file(tmp_path, staged.token)


def test_grid_files_are_told_apart(tmp_path):
    import pandapower as pp
    import pandapower.networks as pn

    net = tmp_path / "grid.json"
    pp.to_json(pn.example_simple(), str(net))
    assert feeder_file_kind(net) == "network"
    district = dc.load_district()
    points = tmp_path / "t.geojson"
    points.write_text(district.transformers.to_json(), encoding="utf-8")
    assert feeder_file_kind(points) == "transformers"
    lines = tmp_path / "s.geojson"
    lines.write_text(district.streets.to_json(), encoding="utf-8")
    assert feeder_file_kind(lines) == "streets"
    gpkg = tmp_path / "grid.gpkg"
    district.transformers.to_file(gpkg, layer="transformers", driver="GPKG")
    district.lines.to_file(gpkg, layer="lines", driver="GPKG")
    assert feeder_file_kind(gpkg) == "transformers"
    junk = tmp_path / "junk.json"
    junk.write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    with pytest.raises(DecentraError, match=r"junk\.json: not GeoJSON"):
        feeder_file_kind(junk)


def stage_path(root: Path, path: Path) -> dict:
    return stage_upload(data_url(path.read_bytes()), path.name, root).to_dict()


def test_run_import_of_staged_footprints_with_streets(tmp_path):
    root = tmp_path / "staging"
    root.mkdir()
    frame = bubenec_footprints(40)
    src = tmp_path / "houses.geojson"
    src.write_text(frame.to_json(), encoding="utf-8")
    streets = tmp_path / "streets.geojson"
    streets.write_text(dc.load_district().streets.to_json(), encoding="utf-8")
    files = {"buildings": stage_path(root, src), "grid": stage_path(root, streets)}
    progress: list[str] = []
    result = run_import(files, None, "auto", False, "  My district ", root, progress.append)
    assert result.district.n_buildings == 40 and result.district.name == "My district"
    assert "along the streets of streets.geojson" in result.report.network_source
    assert progress


def test_run_import_errors_name_the_file(tmp_path):
    root = tmp_path / "staging"
    root.mkdir()
    with pytest.raises(DecentraError, match="upload a buildings file first"):
        run_import({}, None, "auto", False, None, root)
    bad = tmp_path / "evil.zip"
    bad.write_bytes(zip_bytes({"../../outside.geojson": b"{}"}))
    with pytest.raises(DecentraError, match=r"evil\.zip: .*zip-slip"):
        run_import({"buildings": stage_path(root, bad)}, None, "auto", False, None, root)


def test_page_opens_on_the_district_of_its_link(tmp_path, district):
    registry = state.DistrictRegistry(tmp_path / "districts")
    registry.add(district)
    other = dc.synthetic_city(300)
    registry.add(other)
    store = ScenarioStore(tmp_path / "s.sqlite")
    scen = dc.Scenario(name="for the other").with_pv(dc.PvPlacement(
        other.buildings["building_id"].iloc[0], 10.0, 30.0, 180.0))
    sid = store.save("w" * 32, other.content_hash, scen, {})
    token = store.load("w" * 32, sid).share_token

    shown, scenario, notice = resolve_page({}, district, registry, store)
    assert shown is district and notice is None and not scenario.pv
    shown, _, notice = resolve_page({"district": other.content_hash}, district, registry, store)
    assert shown.content_hash == other.content_hash and notice is None
    # a shared scenario opens its own district
    shown, _, notice = resolve_page({"share": token}, district, registry, store)
    assert shown.content_hash == other.content_hash and notice is None
    # placements read from an imported file
    key = state.put_scenario(scen)
    query = dict(part.split("=") for part in district_url(other.content_hash, key)[2:]
                 .split("&"))
    shown, opened, notice = resolve_page(query, district, registry, store)
    assert opened == scen and notice is None
    # links that no longer resolve: the default district, and a message saying why
    for bad in ({"district": "0" * 32}, {"district": "../../x"}, {"scenario": "nope"},
                {"share": sid}, {"district": "a" * 5000}, {"whatever": "1"},
                {"district": other.content_hash, "placements": "gone"}):
        shown, _, notice = resolve_page(bad, district, registry, store)
        assert notice
    assert resolve_page({"district": "../../x"}, district, registry, store)[0] is district
