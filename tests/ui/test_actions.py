"""Callback logic without a browser: edits, validation, session history, selection parsing."""

from __future__ import annotations

import pytest

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.figures.maps import MapBase
from dashboard.ui import state
from dashboard.ui.formats import kpi_strip
from dashboard.ui.grid.logic import transformer_rows
from dashboard.ui.planning import logic as actions
from dashboard.ui.planning.logic import selection_from_points, selection_from_region

pytestmark = pytest.mark.usefixtures("bound_cache")


def first(district, n=1):
    return district.buildings.sort_values("roof_area_m2", ascending=False)[
        "building_id"].head(n).tolist()


def test_set_pv_validates_every_number(district):
    s = dc.Scenario()
    bid = first(district)[0]
    roof = float(district.buildings.set_index("building_id").loc[bid, "roof_area_m2"])
    ok = actions.set_pv(district, s, bid, "12,5", 30, 185)
    assert ok.pv_of(bid).kwp == 12.5 and ok.lineage.building_ids == {bid}
    for kwp, tilt, az, msg in [(None, 30, 180, "please enter a number"),
                               ("abc", 30, 180, "must be a number"),
                               (0, 30, 180, "must be more than 0"),
                               (roof, 30, 180, "at most"),   # more than fits on the roof
                               (5, 91, 180, "Tilt"), (5, 30, -1, "Azimuth"),
                               (float("nan"), 30, 180, "finite")]:
        with pytest.raises(DecentraError, match=msg):
            actions.set_pv(district, s, bid, kwp, tilt, az)
    with pytest.raises(DecentraError, match="not in this district"):
        actions.set_pv(district, s, "nope", 5, 30, 180)


def test_batteries_selection_rule_and_community(district):
    ids = first(district, 5)
    s = actions.set_battery(district, dc.Scenario(), ids, 10, 5)
    assert len(s.batteries) == 5
    with pytest.raises(DecentraError, match="Battery power"):
        actions.set_battery(district, s, ids, 10, 500)      # > 10 C
    with pytest.raises(DecentraError, match="select one or more"):
        actions.set_battery(district, s, [], 10, 5)
    s = actions.pv_on_buildings(district, s, ids, 60)
    module = district.assumptions.number("pv.module_area_m2_per_kwp")
    roofs = district.buildings.set_index("building_id").loc[ids, "roof_area_m2"]
    assert [s.pv_of(i).kwp for i in ids] == pytest.approx(list(roofs * 0.6 / module), abs=1e-3)
    s = actions.remove_all(district, s, ids[:2])
    assert len(s.pv) == 3 and len(s.batteries) == 3
    r = actions.apply_rule(district, dc.Scenario(), 300, 50)
    assert len(r.pv) == int((district.buildings["roof_area_m2"] >= 300).sum())
    with pytest.raises(DecentraError, match="already has that PV"):
        actions.apply_rule(district, r, 300, 50)            # nothing new to place
    with pytest.raises(DecentraError, match="no roof is that large: the largest"):
        actions.apply_rule(district, r, 99_999, 50)
    with pytest.raises(DecentraError, match="coverage"):
        actions.apply_rule(district, r, 100, 150)
    tid = district.transformers["transformer_id"].iloc[0]
    c = actions.set_community(district, r, tid, 200, 100)
    assert c.community_battery_of(tid).capacity_kwh == 200
    assert actions.remove_community(district, c, tid).community_battery_of(tid) is None
    with pytest.raises(DecentraError):
        actions.set_community(district, r, "T99", 200, 100)


def test_session_history_round_trip(district):
    s0 = dc.Scenario(name="a")
    session = state.new_session(district, s0)
    s1 = actions.set_pv(district, s0, first(district)[0], 5, 30, 180)
    session1 = state.push(session, s1)
    assert state.get_scenario(session1["scenario"]) == s1
    assert session1["undo"] == [session["scenario"]] and session1["redo"] == []
    back = state.undo(session1)
    assert back["scenario"] == session["scenario"] and back["redo"] == [session1["scenario"]]
    assert state.redo(back)["scenario"] == session1["scenario"]
    with pytest.raises(DecentraError, match="nothing to undo"):
        state.undo(session)
    assert state.push(session1, s1) is session1           # same scenario: no new entry
    renamed = state.push(session1, s1.renamed("b"))
    assert renamed["scenario"] != session1["scenario"]
    with pytest.raises(DecentraError, match="damaged"):
        state.parse_session({"district": 1})
    with pytest.raises(DecentraError, match="no longer on the server"):
        state.get_scenario("missing-key")


def test_selection_from_clicks_boxes_and_lassos(district):
    transformer = {"curveNumber": 0, "text": "T01"}
    assert selection_from_points([transformer]) == {"buildings": [], "transformer": "T01"}
    assert selection_from_points([]) == {"buildings": [], "transformer": None}
    base = MapBase.from_district(district.buildings, district.transformers)
    x0, x1 = float(base.b_lon.min()), float(base.b_lon.max())
    y0, y1 = float(base.b_lat.min()), float(base.b_lat.max())
    everything = selection_from_region(base, {"range": {"map": [[x0 - 1e-4, y1 + 1e-4],
                                                                 [x1 + 1e-4, y0 - 1e-4]]}})
    assert len(everything["buildings"]) == 144
    west = selection_from_region(base, {"lassoPoints": {"map": [
        [x0 - 1e-4, y0 - 1e-4], [(x0 + x1) / 2, y0 - 1e-4], [(x0 + x1) / 2, y1 + 1e-4],
        [x0 - 1e-4, y1 + 1e-4]]}})
    expected = {b for b, lon in zip(base.building_ids, base.b_lon, strict=True)
                if lon < (x0 + x1) / 2}
    assert set(west["buildings"]) == expected
    assert selection_from_region(base, {}) == {"buildings": [], "transformer": None}


def test_kpi_strip_shows_units_deltas_and_formulas(district, rule_scenario):
    base = dc.evaluate(district).summary
    summary = dc.evaluate(district, rule_scenario).summary
    cards = kpi_strip(summary, base)
    assert len(cards) == 10
    first_card = cards[0]
    _label, value, delta = first_card.children
    assert value.children.endswith("%") and delta.children.endswith(" pp")
    assert "without DER" in getattr(first_card, "data-tip")
    assert "good" in delta.className
    assert "ΣD" in getattr(first_card, "data-tip")
    result = dc.evaluate(district, rule_scenario)
    rows = transformer_rows(result.transformers)
    assert [r["transformer_id"] for r in rows] == district.transformers["transformer_id"].tolist()
    assert {r["basis"] for r in rows} == {"estimate"}
    assert [r["loading_pct"] for r in rows] == [
        round(v, 1) for v in result.transformers["loading_pct"]]
    # with the power flow of the same scenario: loading, voltages and hosting verified
    study = dc.grid_study(district, rule_scenario)
    rows = transformer_rows(result.transformers, study)
    assert {r["basis"] for r in rows} == {"power flow"}
    t = study.transformers
    assert rows[0]["hosting_capacity_kwp"] == round(t["hosting_capacity_kwp"].iloc[0])
    assert rows[0]["voltage_pu"] == f"{t['vm_min_pu'].iloc[0]:.3f}–{t['vm_max_pu'].iloc[0]:.3f}"


def test_registry_round_trips_through_disk(district, tmp_path):
    reg = state.DistrictRegistry(tmp_path)
    key = reg.add(district)
    fresh = state.DistrictRegistry(tmp_path)          # another process: only the disk
    assert fresh.get(key).content_hash == key
    with pytest.raises(DecentraError):
        fresh.get("0" * 32)


def test_framed_view_keeps_the_district_clear_of_covered_edges(district):
    from dashboard.figures.maps import framed_view, view_center
    from dashboard.ui.planning.logic import parse_map_size

    bounds = district.buildings.total_bounds
    free_centre, free_zoom = framed_view(bounds, 1000, 700)
    centre, zoom = framed_view(bounds, 1000, 700, right_px=200, bottom_px=100)
    assert zoom < free_zoom                            # less room: zoomed out
    assert centre["lon"] > free_centre["lon"]          # the view centre moves right ...
    assert centre["lat"] < free_centre["lat"]          # ... and down: district up-left
    # the district fits the free area: its width in pixels at that zoom
    px_per_deg = 512 * 2 ** zoom / 360
    assert (bounds[2] - bounds[0]) * px_per_deg <= 1000 - 200 - 2 * 24 + 1
    assert view_center(bounds, 752, 552)[1] == pytest.approx(framed_view(
        bounds, 800, 600)[1], abs=1e-9)
    assert parse_map_size({"w": 1200, "h": 800, "right": 180, "bottom": 90})["right_px"] == 180
    for bad in (None, {"w": "x", "h": 3}, {"w": 10, "h": 800}, {"h": 800}):
        with pytest.raises(DecentraError):
            parse_map_size(bad)
