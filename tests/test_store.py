"""Saved scenarios in SQLite: round trip, concurrent writers, and a writer killed mid-save."""

from __future__ import annotations

import multiprocessing as mp
import signal
import sqlite3
import subprocess
import sys

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


def test_a_locked_store_is_a_clear_message_not_a_crash(tmp_path):
    path = tmp_path / "locked.sqlite"
    store = ScenarioStore(path, timeout_s=0.2)
    sid = store.save("district", dc.Scenario(name="before"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")           # another process holds the write lock
    try:
        with pytest.raises(DecentraError, match=r"locked.*try again"):
            store.save("district", dc.Scenario(name="blocked"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [s.name for s in store.list()] == ["before"] and store.load(sid).name == "before"


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
import os, signal, sqlite3, sys
# Kill this process from inside SQLite after a given number of virtual-machine steps of the
# save: a deterministic "power cut" at every point of the write, not a lucky sleep.
steps, kill_at, armed = [0], int(sys.argv[2]), [False]
real_connect = sqlite3.connect
def tick():
    if armed[0]:
        steps[0] += 1
        if steps[0] >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    return 0
def connect(*args, **kwargs):
    con = real_connect(*args, **kwargs)
    con.set_progress_handler(tick, 1)
    return con
sqlite3.connect = connect
from dashboard.domain.scenario import PvPlacement, Scenario
from dashboard.store import ScenarioStore
store = ScenarioStore(sys.argv[1])
scenario = Scenario(name="big", pv=tuple(PvPlacement(f"B{i:05d}", 1.0) for i in range(2000)))
target = sys.argv[3] if len(sys.argv) > 3 else None
armed[0] = True
sid = store.save("district", scenario, {"self_sufficiency": 0.5}, scenario_id=target)
armed[0] = False
print(sid, steps[0], flush=True)
"""


def _save_killed_at(path, step: int, target: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(path), str(step),
                           *([target] if target else [])], capture_output=True, text=True,
                          timeout=120)


def _check_store(path, kept: dict[str, str]) -> list:
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    store = ScenarioStore(path)
    for sid, name in kept.items():             # every earlier scenario, intact
        saved = store.load(sid)
        assert saved.name == name and saved.scenario.name == name
    rows = store.list()
    for saved in rows:                         # whatever is in there is complete
        loaded = store.load(saved.id)
        assert loaded.scenario.name == saved.name
        assert len(loaded.scenario.pv) in (0, 2000)
    return rows


def test_killed_mid_save_keeps_every_earlier_scenario(tmp_path):
    """A writer killed at every stage of a new save and of an overwrite: the store stays
    readable, every earlier scenario loads, and the interrupted save is all there or not at
    all."""
    path = tmp_path / "crash.sqlite"
    store = ScenarioStore(path)
    kept = {store.save("district", dc.Scenario(name=f"kept-{i}")): f"kept-{i}"
            for i in range(3)}
    overwrite = next(iter(kept))
    calibration = _save_killed_at(tmp_path / "calibrate.sqlite", 10**9)
    assert calibration.returncode == 0, calibration.stderr
    steps = int(calibration.stdout.split()[1])
    assert steps > 10
    for step in sorted({max(1, round(steps * f)) for f in
                        (0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95, 1.0)}):
        out = _save_killed_at(path, step)
        assert out.returncode == -signal.SIGKILL or out.returncode == 0, out.stderr
        rows = _check_store(path, kept)
        for saved in rows:                     # a completed save becomes an earlier one
            kept.setdefault(saved.id, saved.name)
        # an overwrite killed midway leaves the old version or the new one, whole
        out = _save_killed_at(path, step, target=overwrite)
        assert out.returncode in (-signal.SIGKILL, 0), out.stderr
        now = ScenarioStore(path).load(overwrite)
        assert now.name in (kept[overwrite], "big")
        kept[overwrite] = now.name
        _check_store(path, kept)
