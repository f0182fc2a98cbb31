"""The app runs every time: on a used cache and store (restarted ten times, damaged between
starts: test_restarts.py; shared by two processes at once), every kind of background job
finishes in the running app, identical requests of two sessions are two jobs, a lost or slow
job says so and the next one works, and stopping the server stops its jobs.

These tests speak to the real app (``python app.py`` in a subprocess) over HTTP the way the
browser does (tests/dashclient.py): every request is a real ``_dash-update-component``.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from dashboard.domain.processes import JOB_PROCESS_ENV
from tests.dashclient import DashPage, grid_debounce
from tests.e2e.conftest import start_app
from tests.importfiles import bubenec_footprints

pytestmark = pytest.mark.e2e


def job_workers(pid: int) -> list[psutil.Process]:
    out = []
    for c in psutil.Process(pid).children():
        try:
            if "dashboard.ui.jobs" in " ".join(c.cmdline()):
                out.append(c)
        except psutil.Error:             # exited meanwhile (a zombie until reaped)
            continue
    return out


def stop(proc, sig=signal.SIGTERM, timeout_s=30.0) -> list[int]:
    """Stop the app; the pids of its job workers (which must be gone afterwards)."""
    workers = [c.pid for c in job_workers(proc.pid)]
    proc.send_signal(sig)
    proc.wait(timeout=timeout_s)
    deadline = time.time() + 10
    while time.time() < deadline and any(psutil.pid_exists(p) and psutil.Process(p).status()
                                         != psutil.STATUS_ZOMBIE for p in workers):
        time.sleep(0.1)
    alive = [p for p in workers if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"job workers outlived the server: {alive}"
    return workers


def page(url: str, http: requests.Session | None = None, power_flow: bool = True) -> DashPage:
    """A tab; ``http`` shares a browser's cookies (its workspace) between tabs;
    ``power_flow``: run it after edits as the page does (False: a tab whose power flow is not
    under test)."""
    p = DashPage(url, timeout_s=60, http=http)
    if power_flow:
        p.on_change["session.data"] = grid_debounce
    return p.open()


def grid_verified(p: DashPage, timeout_s: float = 90.0) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        p.wait_jobs(timeout_s)
        status = p.text("grid-status.children")
        if status.startswith("verified") or status.startswith("failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"the power flow did not finish: {p.text('grid-status.children')}")


def no_server_errors(p: DashPage) -> None:
    """No request failed, and every job started finished (waiting for the last ones)."""
    p.wait_jobs(180)
    bad = [(r.kind, r.status, r.error) for r in p.requests if r.status >= 500 or r.error]
    assert not bad, bad
    assert not p.unfinished_jobs()


def round_trip(url: str, name: str, http: requests.Session | None = None,
               power_flow: bool = True) -> str:
    """What a planner does in a session: the power flow of what is on screen, a rule, a
    rename, save, compare with the current scenario. Returns the saved id."""
    p = page(url, http, power_flow)
    if power_flow:
        assert grid_verified(p).startswith("verified")
    p.set("rule-min-roof.value", 150, fire=False)
    p.click("rule-apply")
    p.wait_jobs()
    assert "PV placed" in p.text("message.children"), p.text("message.children")
    p.set("scenario-name.value", name)                 # the rename that crashed starts
    assert p.text("message.children") in ("", "None"), p.text("message.children")
    p.click("save")
    sid = p.get("session.data")["saved_id"]
    assert sid and "Saved" in p.text("message.children")
    p.click("compare")
    p.set("compare-pick.value", ["current", sid])
    body = p.text("compare-body.children")
    assert "Self-sufficiency" in body and name in body, body[:300]
    if power_flow:
        status = grid_verified(p)
        assert status.startswith("verified"), status
    no_server_errors(p)
    if http is None:
        p.close()
    return sid


def damage(cache: Path) -> None:
    """What a crash or a disk full leaves: truncated value files, a torn job database."""
    for f in cache.rglob("*.val"):
        f.write_bytes(f.read_bytes()[:7])
    jobs = cache / "jobs" / "cache.db"
    if jobs.exists():
        jobs.write_bytes(b"not a database" * 100)


def test_two_app_processes_on_one_cache_and_store(tmp_path):
    a, url_a = start_app(tmp_path)
    b, url_b = start_app(tmp_path)
    try:
        out: dict[str, str] = {}
        errors: list[BaseException] = []

        def run(url: str, name: str) -> None:
            try:
                out[name] = round_trip(url, name)
            except BaseException as err:          # reported below
                errors.append(err)

        threads = [threading.Thread(target=run, args=(u, n)) for u, n in
                   [(url_a, "From A"), (url_b, "From B"), (url_a, "A again")]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
        assert len(set(out.values())) == 3
    finally:
        stop(a)
        stop(b)
    logs = "".join(p.read_text() for p in tmp_path.glob("app-*.log"))
    assert "Traceback" not in logs, logs[-3000:]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jobs")
    proc, url = start_app(tmp)
    yield url, tmp
    stop(proc)


def test_every_kind_of_job_finishes(served):
    url, tmp = served
    p = page(url)
    # power flow of the district as it is, with hosting capacity (verified table)
    assert grid_verified(p).startswith("verified")
    rows = p.get("transformer-table.data")
    assert rows and {r["basis"] for r in rows} == {"power flow"}
    assert all(r["hosting_capacity_kwp"] is not None for r in rows)
    # rule placement, then the power flow of the new scenario
    p.click("rule-apply")
    p.wait_jobs()
    assert "PV placed" in p.text("message.children")
    assert grid_verified(p).startswith("verified")
    # a suggestion (the optimizer, a long job): its scenario opens as the current one
    before = p.get("session.data")["scenario"]
    p.set("suggest-budget.value", 60_000, fire=False)
    p.click("suggest-run")
    assert p.wait_jobs(180), "the suggestion did not finish in 180 s"
    assert "Suggested scenario opened" in p.text("message.children"), (
        p.text("message.children"), p.text("suggest-status.children"))
    assert p.get("session.data")["scenario"] != before
    assert "Gain per 1,000" in p.text("suggest-result.children")
    assert grid_verified(p).startswith("verified")
    # a community battery (this killed the power flow job: fork after OpenMP)
    tid = rows[0]["transformer_id"]
    p.set("selection.data", {"buildings": [], "transformer": tid})
    p.set("comm-kwh.value", 1000, fire=False)
    p.set("comm-kw.value", 500, fire=False)
    p.click("comm-apply")
    status = p.text("grid-status.children")
    assert not status.startswith("verified"), status      # never verified on stale data
    assert "out of date" in p.text("transformer-info.children")
    assert grid_verified(p).startswith("verified")
    assert "verified" in p.text("transformer-info.children")
    # exports: a file and a map image (kaleido + Chromium in a job worker)
    for fmt in ("summary-csv", "png"):
        p.click({"format": fmt, "type": "export"})
        p.wait_jobs(120)
        assert "ready" in p.text("export-status.children"), p.text("export-status.children")
        assert p.get("download.data", {}).get("filename", "").endswith(
            "indicators.csv" if fmt == "summary-csv" else ".png")
    # an import check
    geo = tmp / "twelve.geojson"
    bubenec_footprints(12).to_file(geo, driver="GeoJSON")
    content = "data:application/geo+json;base64," + base64.b64encode(
        geo.read_bytes()).decode()
    p.set("import-buildings.filename", geo.name, fire=False)
    p.set("import-buildings.contents", content)
    assert p.get("import-run.disabled") is False, p.text("import-buildings-info.children")
    p.click("import-run")
    p.wait_jobs(120)
    assert "Ready" in p.text("import-result.children"), p.text("import-result.children")
    no_server_errors(p)


def test_identical_requests_of_two_sessions_are_two_jobs(served):
    url, _ = served
    pages = [page(url, power_flow=False) for _ in range(4)]     # rules, not power flows
    assert len({json.dumps(p.get("session.data"), sort_keys=True) for p in pages}) == 1
    barrier = threading.Barrier(len(pages))

    def go(p: DashPage) -> None:
        barrier.wait()
        p.click("rule-apply")
        p.wait_jobs()

    threads = [threading.Thread(target=go, args=(p,)) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for p in pages:
        assert "PV placed" in p.text("message.children"), p.text("message.children")
        assert p.get("session.data")["undo"], "the session did not get its result"
        no_server_errors(p)


def test_a_killed_worker_or_a_slow_job_says_so_and_the_next_job_works(tmp_path):
    proc, url = start_app(tmp_path, env={"DECENTRA_JOB_WORKERS": "1"})
    try:
        p = page(url)
        assert grid_verified(p).startswith("verified")
        workers = job_workers(proc.pid)
        assert len(workers) == 1
        # one thread per pool in a job process (JOB_PROCESS_ENV, set before numpy loads)
        assert all(workers[0].environ().get(k) == v for k, v in JOB_PROCESS_ENV.items())
        # kill the worker while it runs a power flow (a large rule makes it slow enough)
        p.set("rule-min-roof.value", 0, fire=False)
        p.click("rule-apply")
        deadline = time.time() + 60
        while time.time() < deadline:       # until the power flow of the new scenario runs
            with p.lock:
                running = [j for j in p.jobs.values() if j.name == "grid-store" and j.job
                           and not j.done.is_set()]
            if running:
                break
            time.sleep(0.01)
        workers[0].kill()
        status = grid_verified(p)
        assert status.startswith("failed"), "the power flow finished before the kill"
        assert "stopped unexpectedly" in status and "Run power flow" in status, status
        # the pool has a new worker: retry works
        p.click("grid-run")
        assert grid_verified(p).startswith("verified")
        no_server_errors(p)
    finally:
        stop(proc)

    slow = tmp_path / "fresh"             # nothing computed yet: the power flow must run
    slow.mkdir(mode=0o700)
    proc, url = start_app(slow, env={"DECENTRA_JOB_TIMEOUT_S": "0.05",
                                         "DECENTRA_JOB_WORKERS": "1"})
    try:
        p = page(url)
        status = grid_verified(p)
        assert status.startswith("failed") and "time limit" in status, status
    finally:
        stop(proc)


def test_stopping_the_server_stops_its_jobs(tmp_path):
    proc, url = start_app(tmp_path)
    p = page(url)
    p.click("rule-apply")                   # jobs in flight
    workers = stop(proc, sig=signal.SIGKILL)   # even a killed server takes them along
    assert workers
    assert os.path.exists(tmp_path)
