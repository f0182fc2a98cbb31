"""Saved scenarios in SQLite.

One file (``DECENTRA_STORE`` or ``~/.decentra/scenarios.sqlite`` by default), WAL journal so
readers never block the writer, every write one ``BEGIN IMMEDIATE`` transaction: a process that
dies mid-save loses only that save, never what was saved before. Several processes (gunicorn
workers, the CLI) may use the same file at once.

Each row keeps the scenario's versioned JSON, the content hash of the district it was made for,
and the headline indicators computed when it was saved (for the list).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    district_hash TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    kpis_json     TEXT NOT NULL DEFAULT '{}',
    created_utc   REAL NOT NULL,
    updated_utc   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS scenarios_by_district ON scenarios (district_hash, updated_utc);
"""

HEADLINE_KPIS = ("self_sufficiency", "pv_kwp", "battery_kwh", "peak_export_kw",
                 "survival_mean_h", "capex_eur", "payback_years")


def default_store_path() -> Path:
    env = os.environ.get("DECENTRA_STORE")
    return Path(env) if env else Path.home() / ".decentra" / "scenarios.sqlite"


@dataclass(frozen=True)
class SavedScenario:
    id: str
    name: str
    district_hash: str
    content_hash: str
    scenario: Scenario
    kpis: Mapping[str, float]
    created_utc: float
    updated_utc: float


class ScenarioStore:
    """Named scenarios in a SQLite file. Thread- and process-safe; every method opens its own
    short-lived connection (cheap for SQLite) so nothing is shared between threads."""

    def __init__(self, path: str | Path | None = None, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.timeout_s = timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            raise DecentraError(f"cannot open the scenario store ({err})",
                                source=str(self.path)) from None
        except OSError as err:
            raise DecentraError(f"cannot create the scenario store ({err.strerror})",
                                source=str(self.path)) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite failures (locked for longer than the timeout, a deleted or
        read-only file, a full disk) become one DecentraError naming the store."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except sqlite3.Error as err:
            raise DecentraError(f"cannot open the scenario store ({err})",
                                source=str(self.path)) from None
        try:
            con.execute("PRAGMA synchronous=FULL")
            con.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            yield con
        except sqlite3.OperationalError as err:
            hint = (" (another process holds it; try again)" if "locked" in str(err)
                    else "")
            raise DecentraError(f"the scenario store cannot be used: {err}{hint}",
                                source=str(self.path)) from None
        except sqlite3.DatabaseError as err:
            raise DecentraError(f"cannot open the scenario store: it is damaged or not a "
                                f"database ({err})", source=str(self.path)) from None
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: committed whole or not at all."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # ---- writes ----------------------------------------------------------------------------
    def save(self, district_hash: str, scenario: Scenario,
             kpis: Mapping[str, float] | None = None, scenario_id: str | None = None) -> str:
        """Save (``scenario_id`` given: overwrite that entry) and return the id."""
        now = time.time()
        payload = scenario.to_json(indent=None)
        headline = json.dumps({k: _finite(v) for k, v in (kpis or {}).items()
                               if k in HEADLINE_KPIS})
        with self._write() as con:
            if scenario_id is not None:
                cur = con.execute(
                    "UPDATE scenarios SET name=?, district_hash=?, content_hash=?, "
                    "scenario_json=?, kpis_json=?, updated_utc=? WHERE id=?",
                    (scenario.name, district_hash, scenario.content_hash(), payload, headline,
                     now, scenario_id))
                if cur.rowcount == 0:
                    raise DecentraError(f"no saved scenario {scenario_id!r}")
                return scenario_id
            new_id = secrets.token_urlsafe(6)
            con.execute("INSERT INTO scenarios VALUES (?,?,?,?,?,?,?,?)",
                        (new_id, scenario.name, district_hash, scenario.content_hash(), payload,
                         headline, now, now))
            return new_id

    def rename(self, scenario_id: str, name: str) -> None:
        saved = self.load(scenario_id)
        renamed = saved.scenario.renamed(name)   # validates the name
        with self._write() as con:
            con.execute("UPDATE scenarios SET name=?, scenario_json=?, updated_utc=? "
                        "WHERE id=?", (renamed.name, renamed.to_json(indent=None), time.time(),
                                       scenario_id))

    def duplicate(self, scenario_id: str, name: str | None = None) -> str:
        saved = self.load(scenario_id)
        copy = saved.scenario.renamed(name or f"{saved.name} (copy)")
        return self.save(saved.district_hash, copy, saved.kpis)

    def delete(self, scenario_id: str) -> None:
        with self._write() as con:
            cur = con.execute("DELETE FROM scenarios WHERE id=?", (scenario_id,))
            if cur.rowcount == 0:
                raise DecentraError(f"no saved scenario {scenario_id!r}")

    # ---- reads -----------------------------------------------------------------------------
    def load(self, scenario_id: str) -> SavedScenario:
        with self._connect() as con:
            row = con.execute("SELECT * FROM scenarios WHERE id=?", (str(scenario_id),)
                              ).fetchone()
        if row is None:
            raise DecentraError(f"no saved scenario {scenario_id!r} (it may have been deleted)")
        return _row(row)

    def list(self, district_hash: str | None = None) -> list[SavedScenario]:
        query = "SELECT * FROM scenarios"
        args: tuple[Any, ...] = ()
        if district_hash is not None:
            query += " WHERE district_hash=?"
            args = (district_hash,)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY updated_utc DESC", args).fetchall()
        return [_row(r) for r in rows]


def _row(row: tuple) -> SavedScenario:
    sid, name, dhash, chash, payload, kpis, created, updated = row
    return SavedScenario(sid, name, dhash, chash, Scenario.from_json(payload),
                         json.loads(kpis or "{}"), created, updated)


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v
