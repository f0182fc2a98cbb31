"""Saved scenarios in SQLite: round trip, workspaces, share tokens, the migration of a store
written before workspaces, concurrent writers, and a writer killed mid-save."""

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
from dashboard.store import ScenarioStore, new_workspace_id

WS = "w" * 32                   # a workspace of these tests


def test_round_trip_and_management(tmp_path, district, rule_scenario):
    store = ScenarioStore(tmp_path / "s.sqlite")
    kpis = dc.evaluate(district, rule_scenario).summary
    sid = store.save(WS, district.content_hash, rule_scenario, kpis)
    saved = store.load(WS, sid)
    assert saved.scenario == rule_scenario
    assert saved.scenario.content_hash() == rule_scenario.content_hash()
    assert saved.kpis["self_sufficiency"] == pytest.approx(kpis["self_sufficiency"])
    assert "grid_import_kwh" not in saved.kpis          # headline figures only
    # save again over the same id, rename, duplicate, list, delete
    edited = rule_scenario.with_battery(BatteryPlacement(rule_scenario.pv[0].building_id, 9, 4))
    assert store.save(WS, district.content_hash, edited, kpis, scenario_id=sid) == sid
    assert store.load(WS, sid).scenario == edited
    store.rename(WS, sid, "Council option A")
    assert store.load(WS, sid).name == "Council option A"
    copy = store.duplicate(WS, sid)
    assert store.load(WS, copy).name == "Council option A (copy)"
    assert {s.id for s in store.list(WS, district.content_hash)} == {sid, copy}
    assert store.list(WS, "other-district") == []
    store.delete(WS, copy)
    with pytest.raises(DecentraError, match="no saved scenario"):
        store.load(WS, copy)
    with pytest.raises(DecentraError):
        store.delete(WS, "nope")
    with pytest.raises(DecentraError, match="200 characters"):
        store.rename(WS, sid, "x" * 300)
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
    sid = store.save(WS, "district", dc.Scenario(name="before"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")           # another process holds the write lock
    try:
        with pytest.raises(DecentraError, match=r"locked.*try again"):
            store.save(WS, "district", dc.Scenario(name="blocked"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [s.name for s in store.list(WS)] == ["before"]
    assert store.load(WS, sid).name == "before"


def _writer(path: str, tag: str, n: int) -> None:
    store = ScenarioStore(path)
    for i in range(n):
        scen = dc.Scenario(name=f"{tag}-{i}", pv=(PvPlacement(f"B{i:03d}", 1.0 + i),))
        store.save(WS, "district", scen, {"self_sufficiency": i / n})


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
    names = {s.name for s in ScenarioStore(path).list(WS)}
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
from dashboard.store import ScenarioStore, new_workspace_id

WS = "w" * 32                   # a workspace of these tests
store = ScenarioStore(sys.argv[1])
scenario = Scenario(name="big", pv=tuple(PvPlacement(f"B{i:05d}", 1.0) for i in range(2000)))
target = sys.argv[3] if len(sys.argv) > 3 else None
armed[0] = True
sid = store.save("w" * 32, "district", scenario, {"self_sufficiency": 0.5},
                 scenario_id=target)
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
        saved = store.load(WS, sid)
        assert saved.name == name and saved.scenario.name == name
    rows = store.list(WS)
    for saved in rows:                         # whatever is in there is complete
        loaded = store.load(WS, saved.id)
        assert loaded.scenario.name == saved.name
        assert len(loaded.scenario.pv) in (0, 2000)
    return rows


def test_killed_mid_save_keeps_every_earlier_scenario(tmp_path):
    """A writer killed at every stage of a new save and of an overwrite: the store stays
    readable, every earlier scenario loads, and the interrupted save is all there or not at
    all."""
    path = tmp_path / "crash.sqlite"
    store = ScenarioStore(path)
    kept = {store.save(WS, "district", dc.Scenario(name=f"kept-{i}")): f"kept-{i}"
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
        now = ScenarioStore(path).load(WS, overwrite)
        assert now.name in (kept[overwrite], "big")
        kept[overwrite] = now.name
        _check_store(path, kept)


def test_workspaces_never_see_each_other(tmp_path, district):
    store = ScenarioStore(tmp_path / "ws.sqlite")
    alice, bob = new_workspace_id(), new_workspace_id()
    assert alice != bob and len(alice) == 32
    sid = store.save(alice, district.content_hash, dc.Scenario(name="Alice's plan"))
    assert store.list(bob) == [] and store.list(bob, district.content_hash) == []
    for attempt in (lambda: store.load(bob, sid), lambda: store.rename(bob, sid, "mine"),
                    lambda: store.delete(bob, sid), lambda: store.duplicate(bob, sid),
                    lambda: store.save(bob, district.content_hash, dc.Scenario(name="empty"),
                                       scenario_id=sid)):
        with pytest.raises(DecentraError, match="in this workspace"):
            attempt()
    saved = store.load(alice, sid)
    assert saved.name == "Alice's plan" and saved.scenario == dc.Scenario(name="Alice's plan")
    # no workspace, or a malformed one, is refused before any SQL runs
    for bad in ("", "x", None, "'; DROP TABLE scenarios; --" + "x" * 10):
        with pytest.raises(DecentraError, match="no workspace"):
            store.list(bad)  # type: ignore[arg-type]
    # the share token opens a copy for anyone; it is not the id
    assert saved.share_token and saved.share_token != sid
    assert store.load_shared(saved.share_token).scenario == saved.scenario
    for bad in (sid, "x" * 32, "", "a" * 500):
        with pytest.raises(DecentraError):
            store.load_shared(bad)


def test_a_store_written_before_workspaces_migrates_on_first_open(tmp_path, district):
    """tests/data/store_v1.sqlite was written by the store of commit a50dbf0 (no
    workspaces): three scenarios, two of them for the default district."""
    import shutil
    from pathlib import Path

    path = tmp_path / "v1.sqlite"
    shutil.copy(Path(__file__).parent / "data" / "store_v1.sqlite", path)
    before = sqlite3.connect(path).execute(
        "SELECT id, name, scenario_json FROM scenarios ORDER BY id").fetchall()
    store = ScenarioStore(path)
    legacy = store.legacy_workspace()
    assert legacy and store.workspaces() == [(legacy, 3)]
    items = store.list(legacy)
    assert sorted((s.id, s.name) for s in items) == sorted((r[0], r[1]) for r in before)
    for sid, _name, payload in before:
        saved = store.load(legacy, sid)
        assert saved.scenario == dc.Scenario.from_json(payload) and saved.share_token
    # saved on the default district of that time (since rebuilt): still listed with it
    assert "98e85deca5b4ab3ba31a38643b473024" in district.lineage
    assert {s.name for s in store.list(legacy, district.lineage)} == {
        "Council option A", "Option B – batteries"}
    assert store.list(legacy, district.content_hash) == []
    # opening again (another process) changes nothing
    again = ScenarioStore(path)
    assert again.legacy_workspace() == legacy and again.workspaces() == [(legacy, 3)]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
    # a store of a newer schema is refused, not damaged
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(DecentraError, match="newer Decentra"):
        ScenarioStore(newer)
