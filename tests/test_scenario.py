"""Scenario values: validation, versioned JSON, content hash and edit lineage."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import (
    BatteryPlacement,
    CommunityBattery,
    PvPlacement,
    Scenario,
    ScenarioParams,
)


def sample() -> Scenario:
    return Scenario(
        name="South roofs",
        pv=(PvPlacement("B002", 20.0, 30, 180), PvPlacement("B001", 12.5, 35, 200)),
        batteries=(BatteryPlacement("B001", 10, 5),),
        community_batteries=(CommunityBattery("T01", 200, 100),),
        params=ScenarioParams(outage_horizon_h=72, critical_load_fraction=0.3))


def test_json_round_trip_and_schema():
    s = sample()
    data = json.loads(s.to_json())
    assert data["schema"] == "decentra.scenario" and data["version"] == 2
    assert [p["building_id"] for p in data["pv"]] == ["B001", "B002"]  # canonical order
    back = Scenario.from_json(s.to_json())
    assert back == s and back.content_hash() == s.content_hash()


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ('{"schema": "other"}', "not a Decentra scenario"),
    ('{"schema": "decentra.scenario", "version": 3}', "version 3 is not supported"),
    ('{"schema": "decentra.scenario", "version": 1, "extra": 1}', "unknown scenario fields"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": {}}', "must be a list"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": [{"building_id": "a"}]}', "lacks kwp"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": [{"building_id": "a", "kwp": -1}]}',
     "must be more than 0 and at most 100000"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": [{"building_id": "a", "kwp": "x"}]}',
     "must be a number"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": [{"building_id": "a", "kwp": 1,'
     ' "tilt_deg": 95}]}', "tilt"),
    ('{"schema": "decentra.scenario", "version": 1, "batteries": [{"building_id": "a", '
     '"capacity_kwh": 1, "power_kw": 0}]}', "battery power"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": [{"building_id": "a", "kwp": 1},'
     ' {"building_id": "a", "kwp": 2}]}', "placed twice"),
    ('{"schema": "decentra.scenario", "version": 1, "params": {"outage_horizon_h": 0}}',
     "outage horizon"),
    ('{"schema": "decentra.scenario", "version": 1, "params": {"battery_min_soc": 1}}',
     "minimum state of charge"),
    ('{"schema": "decentra.scenario", "version": 1, "pv": [{"building_id": "a", "kwp": NaN}]}',
     "finite"),
])
def test_bad_json_gets_a_clear_message(text, message):
    with pytest.raises(DecentraError, match=None) as err:
        Scenario.from_json(text)
    assert message in str(err.value)


@pytest.mark.parametrize("kwargs", [dict(kwp=0), dict(kwp=float("inf")), dict(kwp=1e9),
                                    dict(kwp=5, tilt_deg=-1), dict(kwp=5, azimuth_deg=400),
                                    dict(kwp=True)])
def test_pv_bounds(kwargs):
    with pytest.raises(DecentraError):
        PvPlacement("B001", **kwargs)


def test_hash_ignores_name_and_order():
    a = sample()
    b = Scenario(name="other", pv=tuple(reversed(a.pv)), batteries=a.batteries,
                 community_batteries=a.community_batteries, params=a.params)
    assert a.content_hash() == b.content_hash()
    assert a.with_params(outage_horizon_h=24).content_hash() != a.content_hash()


def test_edits_return_new_scenarios_with_lineage():
    s = sample()
    t = s.with_pv(PvPlacement("B003", 5))
    assert len(t.pv) == 3 and len(s.pv) == 2
    assert t.lineage.parent_hash == s.content_hash()
    assert t.lineage.building_ids == {"B003"}
    assert t.content_hash() == Scenario.from_json(t.to_json()).content_hash()
    u = t.without_pv("B003")
    assert u == s and u.content_hash() == s.content_hash()
    assert s.with_pv(s.pv[0]) is s          # no change, same object
    c = s.with_community_battery(CommunityBattery("T02", 50, 25))
    assert c.lineage.transformer_ids == {"T02"}
    assert c.community_battery_of("T02").capacity_kwh == 50
    assert s.pv_of("B001").kwp == 12.5 and s.pv_of("nope") is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list("abcdefgh")), st.floats(0.1, 100)), max_size=12))
def test_incremental_hash_equals_fresh_hash(edits):
    s = Scenario()
    for bid, kwp in edits:
        s = s.with_pv(PvPlacement(bid, kwp)) if kwp > 50 else s.without_pv(bid)
    fresh = Scenario(pv=s.pv)
    assert s.content_hash() == fresh.content_hash()
