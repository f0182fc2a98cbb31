"""Load and fault benchmark of the multi-user stack (``scripts/serve``).

    python benchmarks/bench_load.py [--sessions 50] [--seconds 60] [--think 2 6] [--write]
    python benchmarks/bench_load.py --faults 36 [--write]

**Load**: N planners at once, each a browser tab spoken over HTTP exactly as dash-renderer
does (tests/dashclient.py: real ``_dash-update-component`` requests, the chained callbacks,
background jobs polled by their signed handles, the power flow started 1.5 s after edits pause
and cancelled by a newer one, as in the page). Each planner opens the page, then for the fixed
time repeats, with a think time drawn from ``--think`` seconds: set PV on a building, place PV
by rule, undo, save, compare with a saved scenario. After every action the server's scenario
of that tab must equal the one the planner built locally with the same functions (no session
ever sees another's placements). Reported per kind: requests, errors, p50 / p95 / p99; jobs
unfinished at the end; power flows finished, superseded and failed.

**Faults**: planners keep saving and running jobs while the stack is hit by SIGKILL in turn:
a gunicorn worker, a Celery pool process, the Celery main process, and the whole stack
(supervisor, Redis, Celery, gunicorn) which is then started again. Every save the server
acknowledged must be in the store afterwards, intact; after each fault the app must answer a
new page and an edit again by itself (the time it took is reported).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

import dashboard as dc  # noqa: E402
from benchmarks.bench_engine import write_results  # noqa: E402
from dashboard.ui.planning import logic as actions  # noqa: E402
from tests.dashclient import DashError, DashPage, grid_debounce  # noqa: E402
from tests.e2e.conftest import start_serve  # noqa: E402

EDIT_PAUSE_S = 1.5                # as the page: the power flow starts once edits pause


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    mismatches: list[str] = field(default_factory=list)
    unfinished: int = 0
    power_flows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acknowledged_saves: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


class Planner:
    """One tab: its own page, and the scenario it expects the server to hold."""

    def __init__(self, url: str, district: dc.District, seed: int, think: tuple[float, float],
                 stats: Stats, name: str) -> None:
        self.url = url
        self.district = district
        self.rng = random.Random(seed)
        self.think = think
        self.stats = stats
        self.name = name
        self.expected = dc.Scenario(name="Untitled scenario")
        self.history: list[dc.Scenario] = []
        self.saved: str | None = None
        self.page: DashPage | None = None
        self.ids = list(district.buildings["building_id"].astype(str))

    # ---- page -----------------------------------------------------------------------------
    def open(self) -> None:
        page = DashPage(self.url, timeout_s=60)
        page.on_change["session.data"] = lambda p, s: grid_debounce(p, s, EDIT_PAUSE_S)
        t0 = time.perf_counter()
        page.open()
        self.stats.add("open page", time.perf_counter() - t0)
        self.page = page
        self.expected = dc.Scenario(name="Untitled scenario")
        self.history = []
        self.saved = None

    def check(self, what: str) -> None:
        assert self.page is not None
        key = str((self.page.get("session.data") or {}).get("scenario", ""))
        if key.split("-")[0] != self.expected.content_hash():
            with self.stats.lock:
                self.stats.mismatches.append(f"{self.name} after {what}: {key}")

    def _timed(self, kind: str, action) -> None:
        assert self.page is not None
        start = len(self.page.requests)
        t0 = time.perf_counter()
        try:
            action()
        except (DashError, OSError) as err:
            self.stats.add(kind, time.perf_counter() - t0, str(err))
            return
        first = self.page.requests[start] if len(self.page.requests) > start else None
        seconds = first.seconds if first is not None else time.perf_counter() - t0
        message = self.page.text("message.children")
        error = message if "did not work" in message else ""
        self.stats.add(kind, seconds, error)

    # ---- actions ----------------------------------------------------------------------------
    def set_pv(self) -> None:
        p = self.page
        assert p is not None
        bid = self.rng.choice(self.ids)
        row = self.district.buildings.loc[self.district.buildings["building_id"] == bid].iloc[0]
        kwp = round(max(0.5, float(row["pv_potential_kwp"]) * self.rng.uniform(0.2, 1.0)), 1)
        p.set("selection.data", {"buildings": [bid], "transformer": None})
        p.set("pv-kwp.value", kwp, fire=False)
        tilt, az = p.get("pv-tilt.value"), p.get("pv-azimuth.value")
        new = actions.set_pv(self.district, self.expected, bid, kwp, tilt, az)
        self._timed("set PV", lambda: p.click("pv-apply"))
        if new != self.expected or new.name != self.expected.name:
            self.history.append(self.expected)
            self.expected = new
        self.check("set PV")

    def rule(self) -> None:
        p = self.page
        assert p is not None
        roof = self.rng.choice([150, 200, 250, 300, 400])
        p.set("rule-min-roof.value", roof, fire=False)
        coverage = p.get("rule-coverage.value")
        try:
            new = actions.apply_rule(self.district, self.expected, roof, coverage)
        except dc.DecentraError:          # nothing to place: the server says so too
            new = self.expected

        def run() -> None:
            p.click("rule-apply")
            job = next((j for j in p.jobs.values() if j.name == "session-bg"), None)
            if job is not None:
                job.done.wait(120)
                self.stats.add("rule (job)", time.perf_counter() - job.started, job.error)

        self._timed("rule (start)", run)
        if "PV placed" in p.text("message.children") and new != self.expected:
            self.history.append(self.expected)
            self.expected = new
        self.check("rule")

    def undo(self) -> None:
        p = self.page
        assert p is not None
        if not self.history:
            return
        self._timed("undo", lambda: p.click("undo"))
        self.expected = self.history.pop()
        self.check("undo")

    def save(self) -> None:
        p = self.page
        assert p is not None
        self._timed("save", lambda: p.click("save"))
        sid = (p.get("session.data") or {}).get("saved_id")
        if sid and "Saved" in p.text("message.children"):
            self.saved = sid
            with self.stats.lock:
                self.stats.acknowledged_saves.append(
                    (sid, self.expected.name, self.expected.content_hash()))

    def compare(self) -> None:
        p = self.page
        assert p is not None
        if not self.saved:
            return
        p.click("compare")
        self._timed("compare", lambda: p.set("compare-pick.value", ["current", self.saved]))
        body = p.text("compare-body.children")
        if "Self-sufficiency" not in body:
            self.stats.add("compare", 0.0, f"compare shows: {body[:120]}")
        p.click("compare-close")

    def step(self) -> None:
        action = self.rng.choices([self.set_pv, self.rule, self.undo, self.save, self.compare],
                                  weights=[5, 2, 1.5, 1, 1])[0]
        action()

    def finish(self, timeout_s: float = 180.0) -> None:
        p = self.page
        if p is None:
            return
        if not p.wait_jobs(timeout_s):
            with self.stats.lock:
                self.stats.unfinished += len(p.unfinished_jobs())
        with self.stats.lock:
            grid = [j for j in p.finished_jobs if j.name == "grid-store"]
            for j in grid:
                if j.outdated:
                    self.stats.power_flows["superseded"] += 1
                elif j.error:
                    self.stats.power_flows["failed"] += 1
                else:
                    self.stats.power_flows["finished"] += 1
            for r in p.requests:
                if r.kind == "grid-store:job" and not r.error:
                    self.stats.latencies["power flow (job)"].append(r.seconds)
            status = p.text("grid-status.children")
            if status.startswith("failed"):
                self.stats.errors["power flow (job)"].append(status)
            for r in p.requests:
                if r.status >= 500 or (r.status == 0 and r.error):
                    self.stats.errors[f"HTTP {r.kind}"].append(r.error or str(r.status))
                if not r.kind.endswith(":job"):          # HTTP requests, not whole jobs
                    self.stats.latencies["all requests"].append(r.seconds)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# ---- load --------------------------------------------------------------------------------------
def run_load(sessions: int, seconds: float, think: tuple[float, float], web: int,
             jobs: int) -> tuple[str, dict]:
    district = dc.load_district()
    tmp = Path(tempfile.mkdtemp(prefix="decentra-load-"))
    proc, url = start_serve(tmp, "--web-workers", str(web), "--job-workers", str(jobs))
    stats = Stats()
    planners = [Planner(url, district, i, think, stats, f"tab {i}") for i in range(sessions)]
    until = time.time() + seconds
    try:
        warm = DashPage(url).open()                 # every web worker compiled and warm
        warm.close()

        def run(pl: Planner) -> None:
            time.sleep(pl.rng.uniform(0, think[1]))      # arrivals spread over a think time
            try:
                pl.open()
                while time.time() < until:
                    pl.step()
                    time.sleep(pl.rng.uniform(*think))
            except Exception as err:                     # counted, not fatal to the others
                stats.add("session", 0.0, f"{type(err).__name__}: {err}")
            pl.finish()

        threads = [threading.Thread(target=run, args=(p,)) for p in planners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    rows = []
    for kind in ["open page", "set PV", "rule (start)", "rule (job)", "undo", "save",
                 "compare", "power flow (job)", "all requests"]:
        lat = stats.latencies.get(kind, [])
        errs = len(stats.errors.get(kind, []))
        rows.append(f"| {kind} | {len(lat):,} | {errs} | {1e3 * percentile(lat, 50):,.0f} | "
                    f"{1e3 * percentile(lat, 95):,.0f} | {1e3 * percentile(lat, 99):,.0f} |")
    http_errors = sum(len(v) for k, v in stats.errors.items() if k.startswith("HTTP"))
    all_errors = sum(len(v) for v in stats.errors.values())
    pf = stats.power_flows
    text = (f"{sessions} sessions for {seconds:.0f} s on loopback against `scripts/serve` "
            f"({web} gunicorn workers × 8 threads, {jobs} Celery workers, Redis), think time "
            f"{think[0]:g}–{think[1]:g} s, on this 2-core machine:\n\n"
            "| kind | requests | errors | p50 [ms] | p95 [ms] | p99 [ms] |\n"
            "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
            f"- errors: {all_errors} (HTTP 5xx / failed requests: {http_errors}); jobs "
            f"unfinished at the end: {stats.unfinished}\n"
            f"- power flows: {pf['finished']} finished, {pf['superseded']} superseded by a "
            f"newer edit of the same tab, {pf['failed']} failed\n"
            f"- sessions that saw a scenario other than their own: {len(stats.mismatches)}\n")
    if stats.errors:
        sample = {k: v[:2] for k, v in stats.errors.items()}
        text += f"- error samples: `{json.dumps(sample)[:600]}`\n"
    summary = {"errors": all_errors, "unfinished": stats.unfinished,
               "mismatches": len(stats.mismatches),
               "p95_set_pv_ms": 1e3 * percentile(stats.latencies.get("set PV", []), 95),
               "power_flows": dict(pf)}
    return text, summary


# ---- faults ------------------------------------------------------------------------------------
def tree(pid: int) -> list[psutil.Process]:
    try:
        return [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def victims(root: int, kind: str) -> list[psutil.Process]:
    out = []
    for p in tree(root)[1:]:
        try:
            cmd = " ".join(p.cmdline())
            parent = " ".join(p.parent().cmdline()) if p.parent() else ""
        except psutil.Error:
            continue
        pool = "celery" in cmd and "celery" in parent
        if ((kind == "gunicorn worker" and "gunicorn" in cmd and "gunicorn" in parent)
                or (kind == "celery pool process" and pool)
                or (kind == "celery main" and "celery" in cmd and "celery" not in parent)):
            out.append(p)
    return out


def recovered(url: str, district: dc.District, deadline_s: float = 120.0) -> float:
    """Seconds until a new tab opens, an edit answers and a background job (a rule
    placement) finishes again."""
    t0 = time.time()
    bid = str(district.buildings["building_id"].iloc[3])
    while time.time() - t0 < deadline_s:
        try:
            p = DashPage(url, timeout_s=20).open()
            p.set("selection.data", {"buildings": [bid], "transformer": None})
            p.set("pv-kwp.value", 3.0, fire=False)
            p.click("pv-apply")
            edited = bool(p.get("session.data", {}).get("undo"))
            p.click("rule-apply")
            p.wait_jobs(60)
            placed = "PV placed" in p.text("message.children")
            p.close()
            if edited and placed:
                return time.time() - t0
        except (DashError, OSError, ValueError):
            pass
        time.sleep(0.5)
    return float("inf")


def run_faults(n_faults: int, sessions: int) -> tuple[str, dict]:
    district = dc.load_district()
    tmp = Path(tempfile.mkdtemp(prefix="decentra-faults-"))
    port_proc = start_serve(tmp, "--web-workers", "2", "--job-workers", "2")
    proc, url = port_proc
    port = int(url.rsplit(":", 1)[1])
    stats = Stats()
    stop = threading.Event()
    kinds = ["gunicorn worker", "celery pool process", "celery main", "whole stack"]
    done: dict[str, int] = defaultdict(int)
    recovery: dict[str, list[float]] = defaultdict(list)
    state = {"proc": proc}

    def planner(i: int) -> None:
        pl = Planner(url, district, 1000 + i, (0.2, 0.8), stats, f"saver {i}")
        while not stop.is_set():
            try:
                if pl.page is None:
                    pl.open()
                pl.rng.choice([pl.set_pv, pl.rule])()
                pl.expected = pl.expected.renamed(f"saver {i} · {time.time():.3f}")
                pl.page.set("scenario-name.value", pl.expected.name)
                if "did not work" in pl.page.text("message.children"):
                    raise DashError("rename failed")
                pl.page.click("save-new")
                session = pl.page.get("session.data") or {}
                sid = session.get("saved_id")
                if sid and "Saved" in pl.page.text("message.children"):
                    # what the server said it saved: its scenario on this tab, and the name
                    with stats.lock:
                        stats.acknowledged_saves.append(
                            (sid, pl.expected.name, str(session["scenario"]).split("-")[0]))
                time.sleep(pl.rng.uniform(0.2, 0.8))
            except Exception:
                pl.page = None                     # the server went away: a new tab
                time.sleep(0.5)

    threads = [threading.Thread(target=planner, args=(i,), daemon=True)
               for i in range(sessions)]
    for t in threads:
        t.start()
    try:
        for n in range(n_faults):
            time.sleep(2.0)
            kind = kinds[n % len(kinds)]
            if kind == "whole stack":
                for p in tree(state["proc"].pid):
                    with contextlib.suppress(psutil.Error):
                        p.kill()
                state["proc"].wait(timeout=30)
                # the Redis socket and gunicorn port are left behind by a kill -9
                new, _ = start_serve(tmp, "--web-workers", "2", "--job-workers", "2",
                                     port=port)
                state["proc"] = new
            else:
                found = victims(state["proc"].pid, kind)
                if not found:
                    continue
                random.choice(found).kill()
            done[kind] += 1
            recovery[kind].append(recovered(url, district))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        state["proc"].send_signal(signal.SIGTERM)
        state["proc"].wait(timeout=60)
    # every acknowledged save is in the store, intact
    store = tmp / "scenarios.sqlite"
    con = sqlite3.connect(store)
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    rows = {r[0]: r for r in con.execute("SELECT id, name, content_hash, scenario_json "
                                         "FROM scenarios")}
    con.close()
    lost = []
    for sid, name, chash in stats.acknowledged_saves:
        row = rows.get(sid)
        if row is None or row[1] != name or row[2] != chash \
                or dc.Scenario.from_json(row[3]).content_hash() != chash:
            lost.append(sid)
    lines = [f"| {k} | {done[k]} | {max(recovery[k], default=float('nan')):.1f} | "
             f"{statistics.median(recovery[k]) if recovery[k] else float('nan'):.1f} |"
             for k in kinds]
    text = (f"{sum(done.values())} SIGKILLs while {sessions} tabs kept saving (save as new, "
            "after a rename) and running jobs, against `scripts/serve`:\n\n"
            "| killed | times | recovery max [s] | recovery median [s] |\n"
            "|---|---:|---:|---:|\n" + "\n".join(lines) + "\n\n"
            f"- saves acknowledged: {len(stats.acknowledged_saves)}; lost or damaged: "
            f"{len(lost)}; SQLite integrity_check: {integrity}\n"
            "- recovery: from the kill until a new tab opens, an edit answers and a rule "
            "placement (a Celery job) finishes, with no intervention (a whole-stack kill: "
            "from `scripts/serve` started again)\n")
    return text, {"faults": sum(done.values()), "lost": len(lost), "integrity": integrity,
                  "saves": len(stats.acknowledged_saves)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 6.0))
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--job-workers", type=int, default=2)
    parser.add_argument("--faults", type=int, default=0,
                        help="run the fault test with this many kills instead of the load")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    os.environ.setdefault("DECENTRA_BASEMAP", "plain")
    if args.faults:
        text, summary = run_faults(args.faults, sessions=6)
        section, heading = "faults", "## Faults: SIGKILL during saves and jobs (bench_load.py)"
    else:
        text, summary = run_load(args.sessions, args.seconds, tuple(args.think),
                                 args.web_workers, args.job_workers)
        section, heading = "load", "## Many users: load on scripts/serve (bench_load.py)"
    print(text)
    print(json.dumps(summary))
    if args.write:
        write_results(section, text, heading)
    return 0


if __name__ == "__main__":
    sys.exit(main())
