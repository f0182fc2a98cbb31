"""Results shared between processes through flask-caching: a worker that did not compute a
result (or the parent of an edit) finds it, re-attached to its own district model."""

from __future__ import annotations

import time

import numpy as np
import pytest
from flask import Flask

import dashboard as dc
from dashboard import scenarios
from dashboard.cache import cache, init_cache


@pytest.fixture()
def bound(tmp_path):
    before = getattr(cache, "app", None)
    app = Flask(__name__)
    init_cache(app, {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path)})
    scenarios._cache.clear()          # results of earlier tests were never shared here
    yield cache
    cache.app = before


def wait_shared(key, timeout_s=10.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if cache.get(scenarios._shared_key(key)) is not None:
            return
        time.sleep(0.02)
    raise AssertionError("result was not shared")


def test_a_result_computed_elsewhere_is_found_and_complete(bound, district, monkeypatch):
    scen = dc.place_pv_by_rule(district, dc.Scenario(name="shared"), min_roof_m2=150,
                               coverage=0.6)
    first = dc.evaluate(district, scen)
    key = (district.content_hash, scen.content_hash(), True)
    wait_shared(key)
    scenarios._cache.clear()             # as in another worker: nothing in process
    with monkeypatch.context() as m:     # found, not recomputed
        m.setattr(scenarios, "_full", lambda *a, **k: pytest.fail("recomputed"))
        again = dc.evaluate(district, scen)
    assert again is not first
    assert again.summary == first.summary
    bid = scen.pv[0].building_id
    np.testing.assert_array_equal(again.hourly(building_id=bid).to_numpy(),
                                  first.hourly(building_id=bid).to_numpy())
    # an edit of it is computed in full here: the shared result's placements index the PV
    # columns of the process that made it, so it is never patched as a parent
    child = scen.with_battery(dc.BatteryPlacement(bid, 20.0, 10.0))
    scenarios.clear_cache()                # a fresh process: no models, no results
    fresh = dc.evaluate(district, scen)    # from the shared store
    assert not hasattr(fresh, "_state")
    inc = dc.evaluate(district, child)
    full = dc.evaluate(district, child, use_cache=False)
    assert not inc.incremental
    for k, v in full.summary.items():
        assert inc.summary[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k


def test_unbound_or_damaged_entries_are_misses(bound, district):
    scen = dc.Scenario(name="damaged").with_pv(dc.PvPlacement(
        district.buildings["building_id"].iloc[0], 5.0, 30.0, 180.0))
    key = (district.content_hash, scen.content_hash(), True)
    cache.set(scenarios._shared_key(key), "not a result")
    scenarios._cache.clear()
    res = dc.evaluate(district, scen)
    assert res.summary["pv_kwp"] == pytest.approx(5.0)
