"""Every callback of the app, called as Dash calls it — named inputs in, named outputs out —
without a browser (tests/ui/conftest.py passes the dependencies and a workspace's request)."""

from __future__ import annotations

import base64
import json

import pytest
from dash import no_update

from dashboard.ui import ids, state
from dashboard.ui.export import callbacks as export
from dashboard.ui.grid import callbacks as grid
from dashboard.ui.importing import callbacks as importing
from dashboard.ui.planning import callbacks as planning
from dashboard.ui.present import callbacks as present
from dashboard.ui.scenarios import callbacks as scenarios

VIEW = {"color": "self_sufficiency", "layers": ["feeders", "transformers", "pv", "batteries"],
        "basemap": "plain", "grid_mode": "power-flow", "page": "plan"}
FORM = {"pv_kwp": None, "pv_tilt": 30, "pv_azimuth": 180, "bat_kwh": 10, "bat_kw": 5,
        "coverage": 60, "sel_kwh": 10, "sel_kw": 5, "comm_kwh": 200, "comm_kw": 100}


def biggest(district) -> str:
    return str(district.buildings.sort_values("roof_area_m2")["building_id"].iloc[-1])


def edit(deps, session, trigger, selection=None, name=None, **form):
    return planning.edit(deps, {}, name, session, selection or {"buildings": [],
                                                                 "transformer": None},
                         {**FORM, **form}, VIEW, trigger=trigger)


def test_edit_places_pv_and_shows_everything_of_the_new_scenario(deps, session, district):
    bid = biggest(district)
    result = edit(deps, session, ids.PV_APPLY, {"buildings": [bid], "transformer": None},
                  pv_kwp=20)
    assert set(result) == set(planning.EDIT)
    new = state.get_scenario(result["session"]["scenario"])
    assert new.pv_of(bid).kwp == 20 and result["session"]["undo"] == [session["scenario"]]
    assert result["message"] is None and result["undo"] is False
    assert result["status"].startswith("1 PV")
    assert "out of date" in result["grid_status"]          # no power flow of it yet
    kpi = next(t for t in result["kpis"] if "kpi-self_sufficiency" in str(t))
    assert "%" in str(kpi)
    # a bad number: one message, the scenario kept
    bad = edit(deps, session, ids.PV_APPLY, {"buildings": [bid], "transformer": None},
               pv_kwp=-3)
    assert bad["session"] is no_update and "PV size" in str(bad["message"])
    # undo and redo are session steps
    back = edit(deps, result["session"], ids.UNDO)
    assert back["session"]["scenario"] == session["scenario"] and "Undone" in str(
        back["message"])
    again = edit(deps, back["session"], ids.REDO)
    assert again["session"]["scenario"] == result["session"]["scenario"]


def test_rename_and_nothing_changed(deps, session):
    same = edit(deps, session, ids.SCENARIO_NAME, name="Untitled scenario")
    assert all(v is no_update for v in same.values())
    renamed = edit(deps, session, ids.SCENARIO_NAME, name="Option A")
    assert state.get_scenario(renamed["session"]["scenario"]).name == "Option A"
    reset = edit(deps, session, ids.RESET)
    assert "Nothing changed" in str(reset["message"])


def test_community_battery_marks_the_grid_out_of_date(deps, session, district):
    tid = str(district.transformers["transformer_id"].iloc[0])
    sel = {"buildings": [], "transformer": tid}
    out = edit(deps, session, ids.COMM_APPLY, sel, comm_kwh=1000, comm_kw=500)
    assert "out of date" in str(out["transformer_info"])
    assert "being recomputed" in str(out["violations"])


def test_rule_job_and_its_refusals(deps, session, district):
    progress: list = []
    out = planning.apply_rule(deps, progress.append, 1, session, 200, 60)
    assert "PV placed on roofs of at least 200 m²" in str(out["message"])
    new = state.get_scenario(out["session"]["scenario"])
    assert len(new.pv) == int((district.buildings["roof_area_m2"] >= 200).sum())
    assert progress[0] == ("Placing PV …",) and progress[-1] == ("",)
    refused = planning.apply_rule(deps, progress.append, 1, session, 99_999, 60)
    assert refused["session"] is no_update and "largest roof" in str(refused["message"])


def test_render_promotes_a_background_session_and_keeps_the_first_figure(deps, session):
    first = planning.render(deps, None, "self_sufficiency", VIEW["layers"], "plain", "plan",
                            session, None, "power-flow", trigger=None)
    assert first["figure"] is no_update and first["session"] is no_update
    other = dict(session, undo=["x"])
    promoted = planning.render(deps, other, "pv_kwp", VIEW["layers"], "plain", "plan",
                               session, None, "power-flow", trigger=ids.SESSION_BG)
    assert promoted["session"] == other and promoted["figure"] is not no_update
    assert "PV installed" in str(promoted["legend"])
    present_view = planning.render(deps, None, "pv_kwp", VIEW["layers"], "plain", "present",
                                   session, None, "power-flow", trigger=ids.VIEW)
    layers = present_view["figure"].to_plotly_json()["operations"]
    assert any(op.get("params", {}).get("value") is False for op in layers)   # grid hidden


def test_selection_panel_and_transformer_info(deps, session, district):
    bid = biggest(district)
    sel = planning.select(deps, {"building": bid, "shift": False}, None, None, None, session,
                          None, trigger=ids.MAP_CLICK)["selection"]
    assert sel == {"buildings": [bid], "transformer": None}
    both = planning.select(deps, {"building": "B001", "shift": True}, None, None, None,
                           session, sel, trigger=ids.MAP_CLICK)["selection"]
    assert both["buildings"] == [bid, "B001"]
    cleared = planning.select(deps, None, None, None, 1, session, both, trigger=ids.SEL_CLEAR)
    assert cleared["selection"] == {"buildings": [], "transformer": None}
    panel = planning.show_selection(deps, sel, session)
    assert panel["single"] == {"display": "block"} and panel["title"] == f"Building {bid}"
    assert panel["pv_kwp"] > 0 and panel["multi_info"] is no_update
    tid = str(district.transformers["transformer_id"].iloc[0])
    tpanel = planning.show_selection(deps, {"buildings": [], "transformer": tid}, session)
    assert tpanel["transformer"] == {"display": "block"} and tpanel["comm_kwh"] == 200
    info = planning.transformer_info(deps, {"transformer": tid}, None, session)["info"]
    assert f"Transformer {tid}" in str(info)


def test_fit_details_and_drag_mode(deps, session):
    fitted = planning.fit(deps, {"w": 1000, "h": 700, "reason": "load"}, session, None)
    assert fitted["fitted"] == "fitted"
    kept = planning.fit(deps, {"w": 1000, "h": 700, "reason": "load"}, session,
                        {"map.center": {}})
    assert kept["fitted"] == "kept" and kept["figure"] is no_update
    off = planning.details(deps, {}, session, "summer", [], "place")
    assert all(v is no_update for v in off.values())
    charts = planning.details(deps, {}, session, "summer", ["day"], "details")
    assert charts["title"] == "District" and charts["week"].data
    drag = planning.drag_mode(deps, "lasso")["figure"].to_plotly_json()
    assert drag["operations"][0]["params"]["value"] == "lasso"


def test_power_flow_job_render_and_zoom(deps, session, district):
    progress: list = []
    store = grid.run_grid(deps, progress.append, session, 0, session,
                          trigger=ids.GRID_TRIGGER)["store"]
    assert store == {"scenario": session["scenario"], "district": session["district"],
                     "ready": True}
    assert progress and progress[-1][1] == ""
    shown = grid.render_grid(deps, store, "power-flow", session, ["feeders"],
                             trigger=ids.GRID_STORE)
    assert shown["status"].startswith("verified")
    assert {r["basis"] for r in shown["table"]} == {"power flow"}
    layers = shown["figure"].to_plotly_json()["operations"]
    visible = [o["params"]["value"] for o in layers if o["location"][-1] == "visible"]
    assert visible and all(visible)
    # a study arriving during the presentation leaves its map clean
    presented = grid.render_grid(deps, store, "power-flow", session, ["feeders"],
                                 page="present", trigger=ids.GRID_STORE)
    ops = presented["figure"].to_plotly_json()["operations"]
    assert [o for o in ops if o["location"][-1] == "visible"]
    assert not any(o["params"]["value"] for o in ops if o["location"][-1] == "visible")
    stale = grid.render_grid(deps, {**store, "scenario": "older"}, "power-flow", session,
                             ["feeders"], trigger=ids.GRID_STORE)
    assert all(v is no_update for v in stale.values())
    failed = grid.grid_failed(RuntimeError("worker lost"))["store"]
    note = grid.render_grid(deps, failed, "power-flow", dict(session, scenario=session[
        "scenario"]), [], trigger=ids.GRID_STORE)
    assert note["status"].startswith("verified")           # its own study exists: verified
    assert grid.zoom_to(deps, [1], session, trigger=None)["figure"] is no_update


def test_save_list_rename_copy_delete_and_share(deps, session):
    saved = scenarios.save(deps, 1, None, session, trigger=ids.SAVE)
    sid = saved["session"]["saved_id"]
    assert sid and "?share=" in saved["share"] and "Saved" in str(saved["message"])
    listed = scenarios.refresh(deps, saved["session"], None, "plan", "saved")
    assert [o["value"] for o in listed["compare"]] == ["current", sid]
    assert "/w/" + "w" * 32 in listed["workspace"]
    renamed = scenarios.saved_action(deps, [], [], ["Option B"], saved["session"],
                                     trigger={"type": "saved-name", "id": sid},
                                     triggered_value="Option B")
    assert "Renamed" in str(renamed["message"])
    copied = scenarios.saved_action(deps, [], [1], [], saved["session"],
                                    trigger={"type": "saved-dup", "id": sid})
    assert "Option B (copy)" in str(copied["message"])
    opened = scenarios.saved_action(deps, [1], [], [], session,
                                    trigger={"type": "saved-load", "id": sid})
    assert opened["session"]["saved_id"] == sid
    asked = scenarios.ask_delete(deps, [1], trigger={"type": "saved-del", "id": sid})
    assert asked["shown"] is True and "Option B" in asked["text"]
    gone = scenarios.delete(deps, 1, sid, saved["session"])
    assert "Deleted" in str(gone["message"]) and gone["session"]["saved_id"] is None
    token = saved["share"].split("share=")[1]
    # the share token was of the deleted scenario: it opens nothing now
    assert "does not open" in str(scenarios.open_shared(deps, f"?share={token}",
                                                        session)["message"])


def test_upload_download_and_compare(deps, session, district):
    doc = {"schema": "decentra.scenario", "version": 1, "name": "Uploaded",
           "pv": [{"building_id": biggest(district), "kwp": 10}]}
    data = "data:application/json;base64," + base64.b64encode(json.dumps(doc).encode()).decode()
    loaded = scenarios.upload(deps, data, "plan.json", session)
    assert state.get_scenario(loaded["session"]["scenario"]).name == "Uploaded"
    refused = scenarios.upload(deps, "data:x;base64,AAAA", "../../etc/x.json", session)
    assert refused["session"] is no_update and "x.json" in str(refused["message"])
    file = scenarios.download_json(deps, 1, loaded["session"])["file"]
    assert file["filename"] == "Uploaded.json"
    sid = scenarios.save(deps, 1, None, loaded["session"], trigger=ids.SAVE)["session"][
        "saved_id"]
    body = scenarios.compare(deps, ["current", sid], "compare", session)["body"]
    assert "Self-sufficiency" in str(body) and "Uploaded" in str(body)
    few = scenarios.compare(deps, ["current"], "compare", session)["body"]
    assert "Pick 2 to 4" in str(few)


def test_views_and_presentation(deps, session):
    entered = present.switch_view(deps, None, None, 1, None, session, trigger=ids.PRESENT)
    assert entered["view"] == "present" and entered["origin"] == session["scenario"]
    kpis = present.present_kpis(deps, session, "present")["kpis"]
    text = str(kpis)
    for key in ("capex_eur", "payback_years", "co2_avoided_t", "self_sufficiency"):
        assert f"present-{key}" in text
    left = present.switch_view(deps, None, None, None, 1, session, trigger=ids.PRESENT_CLOSE)
    assert left["view"] == "plan" and left["app"] == "app view-plan"
    assert present.present_switch(deps, "current", session, "present",
                                  session["scenario"])["session"] is no_update


def test_export_job_uses_the_registry(deps, session):
    progress: list = []
    made = export.export(deps, progress.append, [1], None, session, "self_sufficiency",
                         "plain", trigger={"type": "export", "format": "summary-csv"})
    assert made["file"]["filename"] == "Untitled-scenario.indicators.csv"
    assert "Indicators · CSV ready" in made["status"]
    assert export.export(deps, progress.append, [], None, session, None, None,
                         trigger=None)["file"] is no_update
    failed = export.export_failed(RuntimeError("x"))
    assert "failed" in str(failed["status"])


def test_report_dialog_alternatives_consultant_and_logo(deps, session, district):
    import io

    from PIL import Image
    from pypdf import PdfReader

    import dashboard as dc

    alt = dc.place_pv_by_rule(district, dc.Scenario(name="Saved <b>option</b>"),
                              min_roof_m2=300, coverage=0.5)
    sid = deps.store.save("w" * 32, district.content_hash, alt)
    assert export.report_choices(deps, "place", session)["options"] is no_update
    offered = export.report_choices(deps, "export", session)["options"]
    assert offered == [{"label": "Saved <b>option</b>", "value": sid}]
    alts = export.pick_alternatives(deps, [sid])["alts"]
    assert state.get_scenario(alts[0]).content_hash() == alt.content_hash()
    assert "at most 6" in str(export.pick_alternatives(deps, [sid] * 7)["status"])
    assert "no saved scenario" in str(export.pick_alternatives(deps, ["nope"])["status"])
    bad = export.logo_upload(deps, "data:image/svg+xml;base64," + base64.b64encode(
        b"<svg><script>alert(1)</script></svg>").decode(), "evil.png")
    assert bad["logo"] is None and "the logo cannot be used" in str(bad["status"])
    buf = io.BytesIO()
    Image.new("RGB", (900, 300), (15, 118, 110)).save(buf, "JPEG")
    good = export.logo_upload(deps, "data:image/jpeg;base64," + base64.b64encode(
        buf.getvalue()).decode(), "logo.jpg")
    assert Image.open(io.BytesIO(base64.b64decode(good["logo"]))).size == (600, 200)
    made = export.export(deps, [].append, [], 1, session, None, "plain", "Which one?",
                         "Planungsbüro Ost", alts, good["logo"], trigger=ids.REPORT)
    assert "Report (PDF) ready" in made["status"]
    pdf = PdfReader(io.BytesIO(made["file"]["content"] if isinstance(
        made["file"]["content"], bytes) else base64.b64decode(made["file"]["content"])))
    first = " ".join(pdf.pages[0].extract_text().split())
    assert "Planungsbüro Ost" in first and "Which one?" in first
    assert "Saved <b>option</b>" in first and len(list(pdf.pages[0].images)) == 1
    tampered = export.export(deps, [].append, [], 1, session, None, "plain", "", "", [],
                             base64.b64encode(b"<html>").decode(), trigger=ids.REPORT)
    assert "the logo cannot be used" in str(tampered["status"])


def test_import_stage_and_check(deps, tmp_path, monkeypatch):
    from tests.importfiles import bubenec_footprints

    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(tmp_path / "cache"))
    geo = tmp_path / "b.geojson"
    bubenec_footprints(12).to_file(geo, driver="GeoJSON")
    url = "data:application/geo+json;base64," + base64.b64encode(geo.read_bytes()).decode()
    staged = importing.stage(deps, {"buildings": url}, {"buildings": "b.geojson"}, {},
                             trigger=ids.IMPORT_BUILDINGS)
    assert staged["run_disabled"] is False and "buildings" in staged["files"]
    bad = importing.stage(deps, {"weather": "data:x;base64,AAAA"}, {"weather": "w.epw"},
                          staged["files"], trigger=ids.IMPORT_WEATHER)
    assert "refused" in bad["files"]["weather"]
    refused = importing.check(deps, lambda _p: None, 1, bad["files"], None, "auto", [], "")
    assert "weather file was not accepted" in str(refused["result"])
    ok = importing.check(deps, lambda _p: None, 1, staged["files"], None, "auto", [], "Test")
    assert "Ready: Test" in str(ok["result"])


def test_import_dialog_passes_the_meter_file_through(deps, tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from tests.importfiles import bubenec_footprints

    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(tmp_path / "cache"))

    def url(raw: bytes) -> str:
        return "data:text/plain;base64," + base64.b64encode(raw).decode()

    geo = tmp_path / "b.geojson"
    bubenec_footprints(12).to_file(geo, driver="GeoJSON")
    staged = importing.stage(deps, {"buildings": url(geo.read_bytes())},
                             {"buildings": "b.geojson"}, {}, trigger=ids.IMPORT_BUILDINGS)
    hours = pd.date_range("2023-01-01", periods=8760, freq="h")
    csv = pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M"),
                        "B002": 3.0 + np.sin(np.arange(8760) / 10)}).to_csv(index=False)
    meters = importing.stage(deps, {"meters": url(csv.encode())}, {"meters": "loads.csv"},
                             staged["files"], trigger=ids.IMPORT_METERS)
    assert "1 building, 8,760 rows" in str(meters["meters_info"])
    assert meters["files"]["meters"]["name"] == "loads.csv" and not meters["run_disabled"]
    pv = pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%dT%H:%M"),
                       "B003": np.clip(np.sin(np.arange(8760) / 24 * 2 * np.pi), 0, None)})
    both = importing.stage(deps, {"pv": url(pv.to_csv(index=False).encode())},
                           {"pv": "pv.csv"}, meters["files"], trigger=ids.IMPORT_PV)
    assert "1 building, 8,760 rows" in str(both["pv_info"])
    assert set(both["files"]) == {"buildings", "meters", "pv"}
    ok = importing.check(deps, lambda _p: None, 1, both["files"], None, "auto", [], "M")
    assert "Ready: M" in str(ok["result"])
    assert "Meter data (loads.csv): 1 building uses its measured demand" in str(ok["result"])
    assert "PV output (pv.csv): 1 existing system uses its measured output" in str(
        ok["result"])
    # a file that is not meter data is refused when dropped, and the import says so
    bad = importing.stage(deps, {"meters": url(b"time,B002\n1,2\n")}, {"meters": "x.csv"},
                          staged["files"], trigger=ids.IMPORT_METERS)
    assert "no 'timestamp' column" in str(bad["meters_info"])
    refused = importing.check(deps, lambda _p: None, 1, bad["files"], None, "auto", [], "")
    assert "meters file was not accepted" in str(refused["result"])


def test_mark_critical_changes_survival_and_the_hubs_view(deps, session, district):
    """A planner marks a building critical in its panel: the scenario carries the mark, the
    building's critical load becomes critical.load_share of its demand (so it survives
    outages for less long), and the Resilience hubs view lists it."""
    import dashboard as dc

    b = district.buildings
    bid = str(b[b["pv_potential_kwp"] >= 10].sort_values("annual_demand_kwh")[
        "building_id"].iloc[0])                  # a small demand under a fair roof
    sel = {"buildings": [bid], "transformer": None}
    with_pv = edit(deps, session, ids.PV_APPLY, sel, pv_kwp=10)
    with_bat = edit(deps, with_pv["session"], ids.BAT_APPLY, sel, bat_kwh=30, bat_kw=10)
    none = planning.hubs(deps, with_bat["session"], "details")["hubs"]
    assert "none marked" in str(none)
    assert planning.hubs(deps, with_bat["session"], "place")["hubs"] is no_update
    marked = edit(deps, with_bat["session"], ids.CRIT_MARK, sel)
    new = state.get_scenario(marked["session"]["scenario"])
    assert new.critical_of(bid) is True and marked["message"] is None
    before = dc.evaluate(district, state.get_scenario(with_bat["session"]["scenario"]))
    after = dc.evaluate(district, new)
    share = district.assumptions.critical_load_share()
    assert after.buildings.loc[bid, "critical_load_fraction"] == share
    assert after.buildings.loc[bid, "survival_mean_h"] < before.buildings.loc[
        bid, "survival_mean_h"]
    assert after.summary["critical_buildings"] == 1
    assert after.summary["critical_survival_mean_h"] == after.buildings.loc[bid,
                                                                           "survival_mean_h"]
    hubs = str(planning.hubs(deps, marked["session"], "details")["hubs"])
    assert bid in hubs and "marked by the planner" in hubs and "30.0 kWh" in hubs
    panel = planning.show_selection(deps, sel, marked["session"])
    assert "marked by you" in str(panel["single_info"])
    # unmarking a building the district does not flag drops the mark: the first scenario
    unmarked = edit(deps, marked["session"], ids.SEL_CRIT_UNMARK, sel)
    assert state.get_scenario(unmarked["session"]["scenario"]).content_hash() == \
        state.get_scenario(with_bat["session"]["scenario"]).content_hash()


def test_every_registered_callback_is_tested_here():
    """A new callback without a test here fails this test."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    for module in (planning, grid, scenarios, present, export, importing):
        feature = module.__name__.split(".")[-2]
        for name in module.__all__:
            if name != "register":
                assert f"{feature}.{name}(" in source, (module.__name__, name)


pytestmark = pytest.mark.usefixtures("bound_cache")
