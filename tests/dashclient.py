"""A Dash page spoken over HTTP the way dash-renderer speaks it (no browser).

``DashPage`` opens a page (``/``, ``/_dash-layout``, ``/_dash-dependencies``), keeps the props
of every component with an id, and fires server callbacks as the renderer does: the initial
calls, then every callback whose input a response changed (chains), background callbacks by
their job handles (``cacheKey`` / ``job`` polled every ``interval``; a newer run of the same
callback sends ``oldJob``, which cancels the older one). Clientside callbacks do not run; a
test or benchmark emulates the few it needs (``on_change``).

Every request is recorded (``requests``: kind, seconds, status) so that a load test can
report latencies and errors. Used by the end-to-end tests and ``benchmarks/bench_load.py``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

CONFIG_RE = re.compile(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                       re.S)


def stringify_id(id_: Any) -> str:
    if isinstance(id_, dict):
        return json.dumps(id_, sort_keys=True, separators=(",", ":"))
    return str(id_)


def split_output(output: str) -> list[tuple[str, str]]:
    """``..a.b...c.d..`` or ``a.b`` (an ``@hash`` suffix dropped) → [(id, prop), ...]."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for p in parts:
        p = p.split("@", 1)[0]
        head, _, prop = p.rpartition(".")
        out.append((head, prop))
    return out


@dataclass
class Record:
    kind: str
    seconds: float
    status: int
    t_end: float
    error: str = ""


@dataclass
class Job:
    name: str
    started: float
    done: threading.Event = field(default_factory=threading.Event)
    outdated: bool = False
    job: str | None = None
    error: str = ""
    result: Any = None


class DashError(RuntimeError):
    pass


class DashPage:
    """One browser tab over HTTP (thread-safe: background jobs poll in their own threads)."""

    def __init__(self, base_url: str, timeout_s: float = 60.0,
                 http: requests.Session | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.http = http or requests.Session()
        self.timeout_s = timeout_s
        self.props: dict[str, Any] = {}
        self.ids: dict[str, Any] = {}
        self.types: dict[str, str] = {}
        self.deps: list[dict] = []
        self.end_id = ""
        self.requests: list[Record] = []
        self.jobs: dict[str, Job] = {}            # callback output -> its latest job
        self.finished_jobs: list[Job] = []
        self.on_change: dict[str, Callable[[DashPage, Any], None]] = {}
        self.skip: set[str] = set()               # callback outputs never fired here
        self.lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self.scheduled = 0                        # emulated clientside calls still to come

    # ---- page ------------------------------------------------------------------------------
    def open(self, query: str = "", initial: bool = True) -> DashPage:
        url = f"{self.base}/{query}"
        t0 = time.perf_counter()
        r = self.http.get(url, timeout=self.timeout_s)
        self._record("page", t0, r.status_code)
        r.raise_for_status()
        m = CONFIG_RE.search(r.text)
        self.end_id = json.loads(m.group(1)).get("end_id", "") if m else ""
        t0 = time.perf_counter()
        layout = self.http.get(f"{self.base}/_dash-layout", headers={"Referer": url},
                               timeout=self.timeout_s)
        self._record("layout", t0, layout.status_code)
        layout.raise_for_status()
        self.deps = self.http.get(f"{self.base}/_dash-dependencies",
                                  timeout=self.timeout_s).json()
        with self.lock:
            self._absorb(layout.json())
            for key, kind in self.types.items():     # dcc.Location reads the address bar
                if kind == "Location":
                    self.props[f"{key}.search"] = query if query.startswith("?") else ""
                    self.props[f"{key}.pathname"] = "/"
                    self.props[f"{key}.href"] = url
        if initial:
            self._fire_initial()
            for key, hook in list(self.on_change.items()):   # initial clientside calls
                if key in self.props:
                    hook(self, self.props[key])
        return self

    def _absorb(self, tree: Any) -> None:
        """Record the props of every component with an id in a layout (sub)tree."""
        if isinstance(tree, list):
            for t in tree:
                self._absorb(t)
            return
        if not isinstance(tree, dict):
            return
        props = tree.get("props")
        if isinstance(props, dict) and "type" in tree:
            if "id" in props:
                key = stringify_id(props["id"])
                self.ids[key] = props["id"]
                self.types[key] = str(tree.get("type"))
                for k, v in props.items():
                    if k not in ("children", "id"):
                        self.props[f"{key}.{k}"] = v
                if "children" in props:
                    self.props[f"{key}.children"] = props["children"]
            for v in props.values():
                if isinstance(v, dict | list):
                    self._absorb(v)

    # ---- firing ---------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self.lock:
            return self.props.get(key, default)

    def set(self, key: str, value: Any, fire: bool = True) -> None:
        with self.lock:
            self.props[key] = value
        if fire:
            self._fire([key])

    def click(self, component: str | dict) -> None:
        key = f"{stringify_id(component)}.n_clicks"
        with self.lock:
            self.props[key] = int(self.props.get(key) or 0) + 1
        self._fire([key])

    def _server_callbacks(self) -> Iterable[dict]:
        return (d for d in self.deps if not d.get("clientside_function")
                and d["output"] not in self.skip)

    def _fire_initial(self) -> None:
        for dep in list(self._server_callbacks()):
            if dep.get("prevent_initial_call"):
                continue
            if all(self._present(i) for i in dep["inputs"]):
                self._run(dep, [])

    def _present(self, dep_input: dict) -> bool:
        id_ = dep_input["id"]
        if isinstance(id_, dict) or (isinstance(id_, str) and id_.startswith("{")):
            return True
        return id_ in self.ids

    def _fire(self, changed: list[str]) -> None:
        for key, hook in list(self.on_change.items()):
            if key in changed:
                hook(self, self.get(key))
        todo = [d for d in self._server_callbacks()
                if any(self._matches(i, changed) for i in d["inputs"])]
        for dep in todo:
            self._run(dep, [c for c in changed if any(self._matches(i, [c])
                                                       for i in dep["inputs"])])

    def _matches(self, dep_input: dict, changed: list[str]) -> bool:
        id_ = dep_input["id"]
        pattern = json.loads(id_) if isinstance(id_, str) and id_.startswith("{") else id_
        for c in changed:
            cid, _, prop = c.rpartition(".")
            if prop != dep_input["property"]:
                continue
            if isinstance(pattern, dict):
                try:
                    actual = json.loads(cid)
                except ValueError:
                    continue
                if isinstance(actual, dict) and set(actual) == set(pattern) and all(
                        isinstance(v, list) or actual[k] == v for k, v in pattern.items()):
                    return True
            elif cid == pattern:
                return True
        return False

    def _values(self, deps: list[dict]) -> list[Any]:
        out: list[Any] = []
        for d in deps:
            id_ = d["id"]
            pattern = json.loads(id_) if isinstance(id_, str) and id_.startswith("{") else id_
            if isinstance(pattern, dict):
                items = []
                for key, raw in self.ids.items():
                    if isinstance(raw, dict) and set(raw) == set(pattern) and all(
                            isinstance(v, list) or raw[k] == v for k, v in pattern.items()):
                        items.append({"id": raw, "property": d["property"],
                                      "value": self.props.get(f"{key}.{d['property']}")})
                out.append(items)
            else:
                out.append({"id": id_, "property": d["property"],
                            "value": self.props.get(f"{id_}.{d['property']}")})
        return out

    def _payload(self, dep: dict, changed: list[str]) -> dict:
        outs = [{"id": i, "property": p} for i, p in split_output(dep["output"])]
        multi = dep["output"].startswith("..")
        with self.lock:
            return {"output": dep["output"], "outputs": outs if multi else outs[0],
                    "inputs": self._values(dep["inputs"]),
                    "state": self._values(dep.get("state", [])),
                    "changedPropIds": changed}

    def _run(self, dep: dict, changed: list[str]) -> None:
        if dep.get("background"):
            self._start_job(dep, changed)
            return
        payload = self._payload(dep, changed)
        data = self._post(payload, kind=self._kind(dep))
        if data is not None:
            self._apply(data)

    @staticmethod
    def _kind(dep: dict) -> str:
        return split_output(dep["output"])[0][0]

    def _post(self, payload: dict, kind: str, args: dict | None = None) -> dict | None:
        params = {"endId": self.end_id} if self.end_id else {}
        params.update(args or {})
        t0 = time.perf_counter()
        try:
            r = self.http.post(f"{self.base}/_dash-update-component", params=params,
                               data=json.dumps(payload),
                               headers={"Content-Type": "application/json"},
                               timeout=self.timeout_s)
        except requests.RequestException as err:
            self._record(kind, t0, 0, f"{type(err).__name__}: {err}")
            raise DashError(f"{kind}: {err}") from None
        self._record(kind, t0, r.status_code, "" if r.status_code < 500 else r.text[:300])
        if r.status_code == 204:
            return None
        if r.status_code >= 400:
            raise DashError(f"{kind}: HTTP {r.status_code}: {r.text[:300]}")
        return r.json()

    def _apply(self, data: dict) -> None:
        changed: list[str] = []
        with self.lock:
            for section in ("response", "sideUpdate", "progress"):
                for cid, props in (data.get(section) or {}).items():
                    if not isinstance(props, dict):
                        continue
                    for prop, value in props.items():
                        key = f"{cid}.{prop}"
                        if isinstance(value, dict) and "__dash_patch_update" in value:
                            continue                  # a Patch of a figure: not tracked
                        self.props[key] = value
                        if section != "progress":
                            changed.append(key)
                        if prop == "children":
                            self._absorb(value)
        if changed:
            self._fire(changed)

    # ---- background callbacks ---------------------------------------------------------------
    def _start_job(self, dep: dict, changed: list[str]) -> None:
        payload = self._payload(dep, changed)
        kind = self._kind(dep)
        job = Job(kind, time.perf_counter())
        args: dict[str, Any] = {}
        with self.lock:
            old = self.jobs.get(dep["output"])
            if old is not None and not old.done.is_set() and old.job:
                old.outdated = True
                args["oldJob"] = old.job
            self.jobs[dep["output"]] = job
        try:
            data = self._post(payload, kind=f"{kind}:start", args=args)
        except DashError as err:
            job.error = str(err)
            job.done.set()
            return
        if data is None or "cacheKey" not in data:
            job.done.set()
            if data:
                self._apply(data)
            return
        job.job = data.get("job")
        interval = float(dep["background"].get("interval") or 1000) / 1000.0
        thread = threading.Thread(target=self._poll, args=(dep, payload, data, job, interval),
                                  daemon=True)
        self._threads.append(thread)
        thread.start()

    def _poll(self, dep: dict, payload: dict, handles: dict, job: Job,
              interval: float) -> None:
        kind = self._kind(dep)
        blank = json.loads(json.dumps(payload))
        for group in ("inputs", "state"):
            for item in blank.get(group) or []:
                for v in item if isinstance(item, list) else [item]:
                    v["value"] = None
        args = {"cacheKey": handles["cacheKey"], "job": handles["job"]}
        deadline = time.perf_counter() + self.timeout_s * 10
        try:
            while time.perf_counter() < deadline:
                time.sleep(interval)
                if job.outdated:
                    return
                data = self._post(blank, kind=f"{kind}:poll", args=args)
                if job.outdated:
                    return
                if data is None:                          # no update: finished
                    job.result = None
                    return
                if "progress" in data or "sideUpdate" in data:
                    self._apply({k: data[k] for k in ("progress", "sideUpdate") if k in data})
                if "response" in data:
                    job.result = data["response"]
                    self._apply({"response": data["response"]})
                    return
            job.error = "no result before the deadline"
        except DashError as err:
            job.error = str(err)
        finally:
            job.done.set()
            with self.lock:
                self.finished_jobs.append(job)
                seconds = time.perf_counter() - job.started
                self.requests.append(Record(f"{kind}:job", seconds,
                                            0 if job.error else 200, time.time(), job.error))

    def wait_jobs(self, timeout_s: float = 120.0) -> bool:
        """Until every background job started so far has finished (or was superseded)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                pending = [j for j in self.jobs.values() if not j.done.is_set()]
                scheduled = self.scheduled
            if not pending and not scheduled:
                return True
            if pending:
                pending[0].done.wait(timeout=max(0.0, deadline - time.monotonic()))
            else:
                time.sleep(0.02)
        return False

    def unfinished_jobs(self) -> list[Job]:
        with self.lock:
            return [j for j in self.jobs.values() if not j.done.is_set() and not j.outdated]

    # ---- helpers ----------------------------------------------------------------------------
    def _record(self, kind: str, t0: float, status: int, error: str = "") -> None:
        with self.lock:
            self.requests.append(Record(kind, time.perf_counter() - t0, status, time.time(),
                                        error))

    def text(self, key: str) -> str:
        """The text of a prop holding components (messages, lists)."""
        return _text(self.get(key))

    def snapshot(self) -> dict[str, Any]:
        """The tab's props now; :meth:`restore` returns to them."""
        with self.lock:
            return copy.deepcopy(self.props)

    def restore(self, props: dict[str, Any]) -> None:
        """Back to a :meth:`snapshot` once every job has finished: what a fresh tab of the
        same page holds, without loading the page again (0.3 s each)."""
        self.wait_jobs()
        with self.lock:
            self.props = copy.deepcopy(props)
            self.jobs.clear()

    def close(self) -> None:
        for j in list(self.jobs.values()):
            j.outdated = True
        self.http.close()


def _text(tree: Any) -> str:
    if tree is None:
        return ""
    if isinstance(tree, str | int | float):
        return str(tree)
    if isinstance(tree, list):
        return "".join(_text(t) for t in tree)
    if isinstance(tree, dict):
        return _text((tree.get("props") or {}).get("children"))
    return ""


def grid_debounce(page: DashPage, session: Any, delay_s: float = 0.05) -> None:
    """Emulate the clientside callback that starts the power flow once edits pause: here
    right away (a test) — benchmarks pass their own pause."""
    def fire() -> None:
        try:
            time.sleep(delay_s)
            if page.get("session.data") == session:
                page.set("grid-trigger.data", session)
        finally:
            with page.lock:
                page.scheduled -= 1
    with page.lock:
        page.scheduled += 1
    threading.Thread(target=fire, daemon=True).start()


__all__ = ["DashError", "DashPage", "Record", "grid_debounce", "split_output", "stringify_id"]
