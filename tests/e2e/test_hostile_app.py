"""Hostile input through the running app: files of the hostile corpus uploaded in the import
dialog (buildings, grid and weather slots) and as scenario JSON, forged requests against other
workspaces, oversized and odd requests. Every one gets a message or a report on the page — no
HTTP 500, no traceback in the server log, no scenario of another workspace reached."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.dashclient import DashPage
from tests.e2e.conftest import start_app
from tests.e2e.test_runs_every_time import no_server_errors, page, stop
from tests.hostile import build_corpus

pytestmark = pytest.mark.e2e

SLOTS = {"buildings": "import-buildings", "network": "import-grid",
         "transformers": "import-grid", "weather": "import-weather"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-app")
    proc, url = start_app(tmp)
    yield url, tmp
    stop(proc)


def data_url(path: Path) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(
        path.read_bytes()).decode()


def upload(p: DashPage, slot: str, path: Path) -> None:
    p.set(f"{slot}.filename", path.name.split("-", 1)[-1], fire=False)
    p.set(f"{slot}.contents", data_url(path))


def shown(p: DashPage) -> str:
    return " ".join(p.text(k) for k in (
        "import-buildings-info.children", "import-grid-info.children",
        "import-weather-info.children", "import-result.children", "message.children"))


def sample(cases: list) -> list:
    """Every family, and every seventh case of the corpus (random and truncated files
    included), without the scenario files over the upload cap."""
    firsts: dict[str, int] = {}
    for i, c in enumerate(cases):
        firsts.setdefault(c.family, i)
    picked = sorted(set(firsts.values()) | set(range(0, len(cases), 7)))
    return [cases[i] for i in picked if cases[i].name != "big.json"]


TABS = 3        # planners uploading at once (the jobs overlap: the test waits less)


def test_hostile_files_through_the_running_app(app, tmp_path):
    url, tmp = app
    cases = build_corpus(tmp_path / "files", random_n=430)
    base = tmp_path / "files" / "_base"
    chosen = sample(cases)
    assert len(chosen) >= 150
    wrong: list[tuple] = []
    outcome: Counter = Counter()
    lock = threading.Lock()

    def tab(mine: list) -> None:
        # one tab (no power flow: not under test), back to its freshly opened state before
        # each file, as a new tab would be
        p = DashPage(url, timeout_s=60).open()
        fresh = p.snapshot()
        for case in mine:
            p.restore(fresh)
            refused, ok, text = try_file(p, case, base)
            with lock:
                outcome["refused" if refused else "imported"] += 1
                if not ok:
                    wrong.append((case.family, case.name, case.expect, text[:200]))
            no_server_errors(p)
        p.close()

    with ThreadPoolExecutor(TABS) as pool:
        for done in [pool.submit(tab, chosen[i::TABS]) for i in range(TABS)]:
            done.result()
    assert sum(outcome.values()) == len(chosen)
    assert not wrong, f"{len(wrong)} of {len(chosen)}: {wrong[:10]}"
    log = "".join(f.read_text() for f in tmp.glob("app-*.log"))
    assert "Traceback" not in log, log[-3000:]
    assert outcome["refused"] > 100


def try_file(p: DashPage, case, base: Path) -> tuple[bool, bool, str]:
    """Upload one case where it belongs (and check the import): (refused, as expected, what
    the page says)."""
    path = Path(case.path)
    if case.role == "scenario":
        p.set("upload.filename", path.name, fire=False)
        p.set("upload.contents", data_url(path))
        text = p.text("message.children")
        refused = "error" in json.dumps(p.get("message.children")) or "not" in text
        return refused, refused and case.match.lower() in text.lower(), text
    if case.role != "buildings":
        upload(p, "import-buildings", base / ("all.geojson" if case.role == "network"
                                              else "good.geojson"))
    upload(p, SLOTS[case.role], path)
    if case.role == "transformers":
        p.set("import-grid-kind.value", "transformers")
    if p.get("import-run.disabled") is False:
        p.click("import-run")
        p.wait_jobs(180)
    text = shown(p)
    refused = "Ready" not in p.text("import-result.children")
    ok = ((refused and case.match.lower() in text.lower()) if case.expect == "refuse"
          else not refused)
    return refused, ok, text


def test_forged_requests_never_reach_another_workspace(app):
    url, _ = app
    alice, mallory = page(url), page(url)
    assert alice.http.cookies.get("decentra_workspace") != mallory.http.cookies.get(
        "decentra_workspace")
    alice.set("scenario-name.value", "Alice's council option")
    alice.click("rule-apply")
    alice.wait_jobs()
    alice.click("save")
    sid = alice.get("session.data")["saved_id"]
    assert sid
    alice.set("tabs.value", "saved")
    assert any(v == "Alice's council option" for k, v in alice.props.items()
               if '"saved-name"' in k and k.endswith(".value"))
    # Mallory's lists show nothing of Alice's
    mallory.set("tabs.value", "saved")
    assert not [k for k in mallory.props if '"saved-name"' in k]
    assert all(o["value"] == "current" for o in mallory.get("compare-pick.options") or [])
    # forged pattern-matched buttons with Alice's id: open, copy, rename, delete
    for kind in ("saved-load", "saved-dup", "saved-del"):
        forged = json.dumps({"id": sid, "type": kind}, sort_keys=True, separators=(",", ":"))
        mallory.ids[forged] = {"id": sid, "type": kind}
        mallory.props[f"{forged}.n_clicks"] = 0
        mallory.click({"id": sid, "type": kind})
    forged = json.dumps({"id": sid, "type": "saved-name"}, sort_keys=True, separators=(",", ":"))
    mallory.ids[forged] = {"id": sid, "type": "saved-name"}
    mallory.set(f"{forged}.value", "pwned")
    mallory.set("pending-delete.data", sid, fire=False)
    mallory.set("confirm-delete.submit_n_clicks", 1)
    # forged session: Mallory's "Save" aims at Alice's id
    session = dict(mallory.get("session.data"))
    session["saved_id"] = sid
    mallory.set("session.data", session, fire=False)
    mallory.click("save")
    mallory.set("compare-pick.value", ["current", sid], fire=False)
    mallory.set("view.data", "compare")
    assert "Alice" not in mallory.text("compare-body.children")
    no_server_errors(mallory)
    # Alice's scenario is untouched, and still hers alone
    again = DashPage(url, http=alice.http).open()
    again.set("tabs.value", "saved")
    names = [v for k, v in again.props.items() if '"saved-name"' in k and k.endswith(".value")]
    assert names == ["Alice's council option"], names
    # the share link opens a copy for Mallory, whose Save keeps it in her own workspace
    token = alice.get("share-url.value").split("share=")[1]
    shared = DashPage(url, http=mallory.http).open(f"?share={token}")
    assert "copy of the shared scenario" in shared.text("message.children")
    shared.click("save-new")
    shared.set("tabs.value", "saved")
    assert [v for k, v in shared.props.items() if '"saved-name"' in k
            and k.endswith(".value")]
    again2 = DashPage(url, http=alice.http).open()
    again2.set("tabs.value", "saved")
    assert len([k for k in again2.props if '"saved-name"' in k and k.endswith(".value")]) == 1


def test_oversized_and_odd_requests(app):
    url, tmp = app
    huge = requests.post(f"{url}/_dash-update-component", data=b"x" * (400 * 2**20),
                         headers={"Content-Type": "application/json"}, timeout=120)
    assert huge.status_code == 413
    assert requests.post(f"{url}/healthz", data=b"x" * (3 * 2**20), timeout=60
                         ).status_code == 413
    p = DashPage(url).open("?district=" + "a" * 5000)
    assert "too long" in p.text("message.children") or "damaged" in p.text("message.children")
    p = DashPage(url).open("?district=../../etc/passwd")
    assert p.text("message.children")
    r = requests.get(f"{url}/geo/{'a' * 500}/layer/{'b' * 500}.geojson", timeout=30)
    assert r.status_code == 404
    r = requests.get(f"{url}/w/not-a-workspace", timeout=30)
    assert r.status_code == 404
    log = "".join(f.read_text() for f in tmp.glob("app-*.log"))
    assert "Traceback" not in log
