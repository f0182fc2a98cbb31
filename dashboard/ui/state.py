"""Per-tab state without global mutable state.

Each browser tab keeps a small session dict in a ``dcc.Store`` (memory storage): the district's
content hash, the current scenario's key, and undo / redo stacks of scenario keys. Scenarios
themselves are immutable values kept server-side in the content-addressed cache (shared by
worker processes), so a click sends a 40-character key instead of the whole scenario, and two
tabs never share anything but identical values.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, TypedDict

from dashboard.cache import Memo, cache_dir, shared
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.forksafe import ForkSafeLock
from dashboard.domain.scenario import Scenario

UNDO_DEPTH = 100


class Session(TypedDict):
    district: str
    scenario: str
    undo: list[str]
    redo: list[str]
    saved_id: str | None      # the store entry this tab saves to ("Save"), if any


def scenario_key(scenario: Scenario) -> str:
    """Content hash plus name (two scenarios differing only by name are different keys)."""
    name = hashlib.sha256(scenario.name.encode()).hexdigest()[:8]
    return f"{scenario.content_hash()}-{name}"


_scenarios: Memo[str, Scenario] = Memo(512)


def put_scenario(scenario: Scenario) -> str:
    """Keep ``scenario`` for this server's processes (and this one's memo); its key."""
    key = scenario_key(scenario)
    if _scenarios.get(key) is None:
        _scenarios.put(key, scenario)
        shared().set("scenario", key, scenario, only_new=True)
    return key


def get_scenario(key: str) -> Scenario:
    hit = _scenarios.get(key) if isinstance(key, str) else None
    if hit is None and isinstance(key, str) and len(key) <= 80:
        value = shared().get("scenario", key, Scenario)
        if value is not None and scenario_key(value) == key:
            hit = value
            _scenarios.put(key, value)
    if hit is None:
        raise DecentraError("this scenario is no longer on the server (the server was "
                            "restarted or its cache cleared); reload the page to start again")
    return hit


def new_session(district: District, scenario: Scenario, saved_id: str | None = None
                ) -> Session:
    return Session(district=district.content_hash, scenario=put_scenario(scenario), undo=[],
                   redo=[], saved_id=saved_id)


def push(session: Session, scenario: Scenario) -> Session:
    """Session after an edit: the new scenario is current, the old one can be undone."""
    key = put_scenario(scenario)
    if key == session["scenario"]:
        return session
    undo = [*session["undo"], session["scenario"]][-UNDO_DEPTH:]
    return Session(district=session["district"], scenario=key, undo=undo, redo=[],
                   saved_id=session["saved_id"])


def undo(session: Session) -> Session:
    if not session["undo"]:
        raise DecentraError("nothing to undo")
    *rest, last = session["undo"]
    return Session(district=session["district"], scenario=last, undo=rest,
                   redo=[session["scenario"], *session["redo"]][:UNDO_DEPTH],
                   saved_id=session["saved_id"])


def redo(session: Session) -> Session:
    if not session["redo"]:
        raise DecentraError("nothing to redo")
    first, *rest = session["redo"]
    return Session(district=session["district"], scenario=first,
                   undo=[*session["undo"], session["scenario"]][-UNDO_DEPTH:], redo=rest,
                   saved_id=session["saved_id"])


def parse_session(data: Any) -> Session:
    if not isinstance(data, dict) or not {"district", "scenario", "undo", "redo"} <= set(data):
        raise DecentraError("the page state is damaged; reload the page")
    saved = data.get("saved_id")
    return Session(district=str(data["district"]), scenario=str(data["scenario"]),
                   undo=[str(k) for k in data["undo"]], redo=[str(k) for k in data["redo"]],
                   saved_id=str(saved) if saved else None)


def with_saved_id(session: Session, saved_id: str | None) -> Session:
    return Session(district=session["district"], scenario=session["scenario"],
                   undo=session["undo"], redo=session["redo"], saved_id=saved_id)


def loaded(session: Session, scenario: Scenario, saved_id: str | None) -> Session:
    """Session after opening a scenario (saved or uploaded): undoable like an edit."""
    return with_saved_id(push(session, scenario), saved_id)


class DistrictRegistry:
    """Districts by content hash: kept in memory and as GeoPackages on disk, so that every
    worker and background process can open a district another one registered."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir("districts")
        self._items: dict[str, District] = {}
        self._lock = ForkSafeLock()

    def add(self, district: District, persist: bool = True) -> str:
        with self._lock:
            self._items[district.content_hash] = district
        if persist:
            path = self.directory / f"{district.content_hash}.gpkg"
            if path.exists():
                path.touch()
            else:
                from dashboard.io.district_gpkg import write_district

                # written whole under a temporary name, then renamed: another process
                # never reads a half-written district
                tmp = self.directory / f".{district.content_hash}.{os.getpid()}.tmp.gpkg"
                try:
                    write_district(district, tmp)
                    os.replace(tmp, path)
                finally:
                    tmp.unlink(missing_ok=True)
                self._prune(keep=path)
        return district.content_hash

    def _prune(self, keep: Path) -> None:
        """Keep the folder under DECENTRA_DISTRICTS_MAX_MB (default 2048): the districts
        opened longest ago go first (a page asking for one then says it is gone)."""
        limit = float(os.environ.get("DECENTRA_DISTRICTS_MAX_MB", "2048")) * 2**20
        files = sorted(self.directory.glob("*.gpkg"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        for p in files:
            if total <= limit:
                break
            if p != keep and p.stem not in self._items:
                total -= p.stat().st_size
                p.unlink(missing_ok=True)

    def get(self, key: str) -> District:
        if not isinstance(key, str) or not key.isalnum() or len(key) > 64:   # hex hashes
            raise DecentraError("this district is not loaded on the server; reload the page")
        with self._lock:
            hit = self._items.get(key)
        if hit is not None:
            return hit
        path = self.directory / f"{key}.gpkg"
        if not path.exists():
            raise DecentraError("this district is not loaded on the server; reload the page")
        from dashboard.io.district_gpkg import read_district
        try:
            district = read_district(path)
        except Exception:
            raise DecentraError("this district could not be read on the server (damaged or "
                                "from another version); import it again") from None
        path.touch()
        with self._lock:
            self._items[key] = district
        return district
