"""Ten restarts on one used cache and store, damaged between starts (the app crashed on every
start after the first once). Its own module: the longest test of the suite, scheduled first
and alone (tests/conftest.py)."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import start_app
from tests.e2e.test_runs_every_time import damage, page, round_trip, stop

pytestmark = pytest.mark.e2e


def test_restart_ten_times_on_a_used_cache_and_store(tmp_path):
    saved = []
    browser = requests.Session()              # one planner's browser: one workspace
    for i in range(10):
        # one job worker: restarts are what is tested (the pool is tested elsewhere)
        proc, url = start_app(tmp_path, env={"DECENTRA_JOB_WORKERS": "1"})
        try:
            # the power flow on the first and the last start (every start runs the other jobs)
            saved.append(round_trip(url, f"Option {i}", browser, power_flow=i in (0, 9)))
            # every scenario saved before is still there, under its name
            p = page(url, browser, power_flow=False)
            p.set("tabs.value", "saved")
            names = {v for k, v in p.props.items() if '"saved-name"' in k
                     and k.endswith(".value")}
        finally:
            stop(proc)
        assert names == {f"Option {j}" for j in range(i + 1)}
        if i in (3, 6):
            damage(tmp_path)
    logs = "".join(p.read_text() for p in tmp_path.glob("app-*.log"))
    assert "Traceback" not in logs, logs[-3000:]
    assert "Exception ignored" not in logs
    assert len(set(saved)) == 10
