"""A power flow run without the hosting search says "not computed" for hosting capacity
everywhere (summary, CLI text and JSON, the Grid tab): never 0, never "nan"."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import dashboard as dc
from dashboard.domain.indicators import hosting_text
from dashboard.figures.maps import TRANSFORMER_HOVER_NO_HOSTING
from dashboard.ui.grid import logic as grid_logic
from dashboard.ui.grid.logic import transformer_panel


@pytest.fixture(scope="module")
def study(district):
    return dc.grid_study(district, hosting=False)


def test_summary_is_nan_without_the_hosting_search(study):
    assert study.transformers["hosting_capacity_kwp"].isna().all()
    assert math.isnan(study.summary["hosting_capacity_kwp"])


def test_summary_is_the_sum_only_when_every_transformer_was_computed(study):
    t = study.transformers.copy()
    t["hosting_capacity_kwp"] = np.arange(1.0, len(t) + 1) * 100.0
    full = dataclasses.replace(study, transformers=t)
    assert full.summary["hosting_capacity_kwp"] == 100.0 * len(t) * (len(t) + 1) / 2
    t.iloc[0, t.columns.get_loc("hosting_capacity_kwp")] = np.nan   # one search failed
    assert math.isnan(dataclasses.replace(study, transformers=t).summary[
        "hosting_capacity_kwp"])


@pytest.mark.parametrize("value, text", [(float("nan"), "not computed"), (None, "not computed"),
                                         (float("inf"), "unlimited"), (0.0, "0 kWp"),
                                         (1234.4, "1,234 kWp")])
def test_hosting_text(value, text):
    assert hosting_text(value) == text


def test_grid_tab_says_not_computed(district, study, monkeypatch):
    scenario = dc.Scenario(name="Baseline (no DER)")
    monkeypatch.setattr(grid_logic, "cached_study", lambda d, s: study)   # as if it ran
    tid = str(district.transformers["transformer_id"].iloc[0])
    text = " ".join(p for p in transformer_panel(district, scenario, tid) if isinstance(p, str))
    assert "hosting capacity not computed (verified" in text
    assert "nan" not in text.lower() and "∞" not in text
    assert "not computed" in TRANSFORMER_HOVER_NO_HOSTING
    assert "customdata[3]" not in TRANSFORMER_HOVER_NO_HOSTING


def test_cli_grid_without_hosting_says_not_computed():
    run = [sys.executable, "-m", "dashboard", "grid", "--no-hosting"]
    text = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "Hosting capacity of the district: not computed" in text.stdout
    assert "nan" not in text.stdout.lower()
    data = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True,
                                     timeout=300).stdout)
    assert data["summary"]["hosting_capacity_kwp"] is None
    assert data["not_computed"] == ["hosting_capacity_kwp"]
    assert all(t["hosting_capacity_kwp"] is None for t in data["transformers"])
