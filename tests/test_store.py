"""Saved scenarios in SQLite: round trip, concurrent writers, and a writer killed mid-save."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import BatteryPlacement, PvPlacement
from dashboard.store import ScenarioStore


def test_round_trip_and_management(tmp_path, district, rule_scenario):
    store = ScenarioStore(tmp_path / "s.sqlite")
    kpis = dc.evaluate(district, rule_scenario).summary
    sid = store.save(district.content_hash, rule_scenario, kpis)
    saved = store.load(sid)
    assert saved.scenario == rule_scenario
    assert saved.scenario.content_hash() == rule_scenario.content_hash()
    assert saved.kpis["self_sufficiency"] == pytest.approx(kpis["self_sufficiency"])
    assert "grid_import_kwh" not in saved.kpis          # headline figures only
    # save again over the same id, rename, duplicate, list, delete
    edited = rule_scenario.with_battery(BatteryPlacement(rule_scenario.pv[0].building_id, 9, 4))
    assert store.save(district.content_hash, edited, kpis, scenario_id=sid) == sid
    assert store.load(sid).scenario == edited
    store.rename(sid, "Council option A")
    assert store.load(sid).name == "Council option A"
    copy = store.duplicate(sid)
    assert store.load(copy).name == "Council option A (copy)"
    assert {s.id for s in store.list(district.content_hash)} == {sid, copy}
    assert store.list("other-district") == []
    store.delete(copy)
    with pytest.raises(DecentraError, match="no saved scenario"):
        store.load(copy)
    with pytest.raises(DecentraError):
        store.delete("nope")
    with pytest.raises(DecentraError, match="200 characters"):
        store.rename(sid, "x" * 300)
    # WAL journal
    con = sqlite3.connect(tmp_path / "s.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DecentraError, match="cannot open the scenario store"):
        ScenarioStore(bad)


def _writer(path: str, tag: str, n: int) -> None:
    store = ScenarioStore(path)
    for i in range(n):
        scen = dc.Scenario(name=f"{tag}-{i}", pv=(PvPlacement(f"B{i:03d}", 1.0 + i),))
        store.save("district", scen, {"self_sufficiency": i / n})


def test_concurrent_saves_from_two_processes(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ScenarioStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, tag, 60)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    names = {s.name for s in ScenarioStore(path).list()}
    assert names == {f"{t}-{i}" for t in ("a", "b") for i in range(60)}


KILL_SCRIPT = """
import sys, time
import dashboard as dc
from dashboard.domain.scenario import PvPlacement
from dashboard.store import ScenarioStore
store = ScenarioStore(sys.argv[1])
pv = tuple(PvPlacement(f"B{i:05d}", 1.0) for i in range(20000))  # a large save
print("ready", flush=True)
i = 0
while True:
    store.save("district", dc.Scenario(name=f"big-{i}", pv=pv))
    i += 1
"""


def test_killed_mid_save_keeps_every_earlier_scenario(tmp_path):
    path = tmp_path / "crash.sqlite"
    store = ScenarioStore(path)
    earlier = [store.save("district", dc.Scenario(name=f"kept-{i}")) for i in range(5)]
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)                      # several large saves are under way
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=20)
    reopened = ScenarioStore(path)
    assert reopened.path.exists()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for sid in earlier:
        assert reopened.load(sid).name.startswith("kept-")
    for saved in reopened.list():       # whatever made it in is complete and loads
        assert saved.scenario.name == saved.name
