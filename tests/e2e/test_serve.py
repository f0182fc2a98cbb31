"""The multi-user stack (``scripts/serve``): Redis, Celery workers and gunicorn started and
supervised together. Pages and every kind of job work through it, sessions never see each
other's placements, a killed Celery or gunicorn worker is reported and replaced, and stopping
the stack stops everything it started."""

from __future__ import annotations

import signal
import threading
import time

import psutil
import pytest

from tests.dashclient import DashPage
from tests.e2e.conftest import start_serve
from tests.e2e.test_runs_every_time import grid_verified, no_server_errors, page, round_trip

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def named(pid: int, word: str) -> list[psutil.Process]:
    out = []
    for p in descendants(pid):
        try:
            if word in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            continue
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    proc, url = start_serve(tmp, "--web-workers", "2", "--job-workers", "2")
    yield proc, url, tmp
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_pages_and_jobs_on_the_served_stack(stack):
    proc, url, _ = stack
    assert named(proc.pid, "redis-server") and named(proc.pid, "celery") \
        and named(proc.pid, "gunicorn")
    round_trip(url, "Served option")
    p = page(url)
    assert grid_verified(p).startswith("verified")
    tid = p.get("transformer-table.data")[0]["transformer_id"]
    p.set("selection.data", {"buildings": [], "transformer": tid})
    p.set("comm-kwh.value", 800, fire=False)
    p.click("comm-apply")
    assert grid_verified(p).startswith("verified")        # community battery on Celery
    p.set("suggest-budget.value", 60_000, fire=False)
    p.click("suggest-run")                                # the optimizer on Celery
    p.wait_jobs(180)
    assert "Suggested scenario opened" in p.text("message.children"), p.text("message.children")
    assert "Gain per 1,000" in p.text("suggest-result.children")
    p.click({"format": "summary-csv", "type": "export"})
    p.wait_jobs(120)
    assert "ready" in p.text("export-status.children"), p.text("export-status.children")
    no_server_errors(p)


def test_sessions_are_isolated_and_identical_requests_are_two_jobs(stack):
    _, url, _ = stack
    # the power flow is not under test here (test_pages_and_jobs_on_the_served_stack)
    pages = [page(url, power_flow=False) for _ in range(6)]
    for p in pages:
        p.wait_jobs()
    barrier = threading.Barrier(len(pages))
    roofs = [100, 150, 200, 250, 300, 300]                 # the last two: identical

    def go(p: DashPage, roof: int) -> None:
        barrier.wait()
        p.set("rule-min-roof.value", roof, fire=False)
        p.click("rule-apply")
        p.wait_jobs()

    threads = [threading.Thread(target=go, args=(p, r)) for p, r in zip(pages, roofs,
                                                                          strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    seen = []
    for p, roof in zip(pages, roofs, strict=True):
        assert f"at least {roof} m²" in p.text("message.children"), p.text("message.children")
        seen.append(p.get("session.data")["scenario"])
        no_server_errors(p)
    assert len(set(seen)) == 5                  # each its own, identical ones identical


def test_killed_workers_are_reported_and_replaced(stack):
    proc, url, tmp = stack
    p = page(url)
    p.wait_jobs()
    # the Celery pool processes killed in the middle of a power flow
    p.set("rule-min-roof.value", 0, fire=False)
    p.click("rule-apply")
    deadline = time.time() + 60
    while time.time() < deadline:          # until the power flow of the new scenario runs
        with p.lock:
            if any(j.name == "grid-store" and j.job and not j.done.is_set()
                   for j in p.jobs.values()):
                break
        time.sleep(0.01)
    pool = [c for c in named(proc.pid, "celery")
            if c.parent() and "celery" in " ".join(c.parent().cmdline())]
    assert pool
    time.sleep(0.3)                        # the task has reached a pool process
    for c in pool:
        c.kill()
    status = grid_verified(p, timeout_s=120)
    assert status.startswith("failed") and "Run power flow" in status, status
    p.click("grid-run")                    # the pool was refilled: retry works
    assert grid_verified(p, timeout_s=120).startswith("verified")
    logs = "".join(f.read_text() for f in tmp.rglob("celery-*.log"))
    assert "Timed out waiting for UP" not in logs      # replacements were not killed
    # a gunicorn worker killed: the master starts another, pages keep working
    web = [c for c in named(proc.pid, "gunicorn") if c.parent() and
           "gunicorn" in " ".join(c.parent().cmdline())]
    assert web
    web[0].kill()
    time.sleep(1.0)
    round_trip(url, "After the kills")


def test_stopping_the_stack_stops_everything(stack):
    proc, _, tmp = stack
    started = descendants(proc.pid)
    assert started
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    time.sleep(0.5)
    left = [p.pid for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"left running after the stack stopped: {left}"
    log = (tmp / "serve.log").read_text()
    assert "stopped" in log
