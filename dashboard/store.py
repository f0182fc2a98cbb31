"""Saved scenarios in SQLite, by workspace.

One file (``DECENTRA_STORE`` or ``~/.decentra/scenarios.sqlite`` by default), WAL journal so
readers never block the writer, every write one ``BEGIN IMMEDIATE`` transaction: a process that
dies mid-save loses only that save, never what was saved before. Several processes (gunicorn
workers, the CLI) may use the same file at once.

**Workspaces.** Every saved scenario belongs to one workspace: an unguessable id the app keeps
in an HttpOnly cookie. Every read and write names the workspace and the SQL checks it
(``WHERE id = ? AND workspace = ?``): an id from another workspace is "not found", whatever a
client sends. A scenario is shared by its **share token** (random, 24 bytes), which opens a
read-only copy (:meth:`ScenarioStore.load_shared`); the visitor saves into their own workspace.

**Migrations.** ``PRAGMA user_version`` is the schema version. Version 1 (no workspaces) is
migrated on first open: its scenarios go to one *legacy* workspace whose id is kept in the
``meta`` table (``python -m dashboard workspaces`` prints its link).

Each row keeps the scenario's versioned JSON, the content hash of the district it was made for,
and the headline indicators computed when it was saved (for the list).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    district_hash TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    kpis_json     TEXT NOT NULL DEFAULT '{}',
    created_utc   REAL NOT NULL,
    updated_utc   REAL NOT NULL,
    workspace     TEXT NOT NULL DEFAULT '',
    share_token   TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS scenarios_by_workspace
    ON scenarios (workspace, district_hash, updated_utc);
CREATE UNIQUE INDEX IF NOT EXISTS scenarios_by_share ON scenarios (share_token);
"""
COLUMNS = ("id", "name", "district_hash", "content_hash", "scenario_json", "kpis_json",
           "created_utc", "updated_utc", "workspace", "share_token")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM scenarios"

HEADLINE_KPIS = ("self_sufficiency", "pv_kwp", "battery_kwh", "peak_export_kw",
                 "survival_mean_h", "capex_eur", "payback_years")
WORKSPACE_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_workspace_id() -> str:
    """An unguessable workspace id (24 random bytes, 32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def valid_workspace(value: object) -> bool:
    return isinstance(value, str) and bool(WORKSPACE_RE.match(value))


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
    share_token: str | None = None


class ScenarioStore:
    """Named scenarios in a SQLite file, by workspace. Thread- and process-safe; every method
    opens its own short-lived connection (cheap for SQLite) so nothing is shared between
    threads."""

    def __init__(self, path: str | Path | None = None, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.timeout_s = timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise DecentraError(f"cannot open the scenario store ({err})",
                                source=self.path.name) from None
        except OSError as err:
            raise DecentraError(f"cannot create the scenario store ({err.strerror})",
                                source=self.path.name) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite failures (locked for longer than the timeout, a deleted or
        read-only file, a full disk) become one DecentraError naming the store."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except sqlite3.Error as err:
            raise DecentraError(f"cannot open the scenario store ({err})",
                                source=self.path.name) from None
        try:
            con.execute("PRAGMA synchronous=FULL")
            con.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            yield con
        except sqlite3.OperationalError as err:
            hint = (" (another process holds it; try again)" if "locked" in str(err)
                    else "")
            raise DecentraError(f"the scenario store cannot be used: {err}{hint}",
                                source=self.path.name) from None
        except sqlite3.DatabaseError as err:
            raise DecentraError(f"cannot open the scenario store: it is damaged or not a "
                                f"database ({err})", source=self.path.name) from None
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

    # ---- schema --------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring the file to SCHEMA_VERSION in one transaction (several processes may open
        it at once: the first migrates, the others find it done)."""
        with self._write() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise DecentraError(f"the scenario store was written by a newer Decentra "
                                    f"(schema {version}); update this installation",
                                    source=self.path.name)
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                                "WHERE type='table'")}
            if "scenarios" in tables:
                cols = {r[1] for r in con.execute("PRAGMA table_info(scenarios)")}
                if "workspace" not in cols:        # schema 1: before workspaces
                    con.execute("ALTER TABLE scenarios ADD COLUMN workspace TEXT NOT NULL "
                                "DEFAULT ''")
                if "share_token" not in cols:
                    con.execute("ALTER TABLE scenarios ADD COLUMN share_token TEXT")
            for stmt in SCHEMA.strip().split(";"):
                if stmt.strip():
                    con.execute(stmt)
            orphans = con.execute("SELECT COUNT(*) FROM scenarios WHERE workspace=''"
                                  ).fetchone()[0]
            if orphans:
                legacy = self._meta(con, "legacy_workspace") or new_workspace_id()
                con.execute("INSERT OR REPLACE INTO meta VALUES ('legacy_workspace', ?)",
                            (legacy,))
                con.execute("UPDATE scenarios SET workspace=? WHERE workspace=''", (legacy,))
            for (sid,) in con.execute("SELECT id FROM scenarios WHERE share_token IS NULL"
                                      ).fetchall():
                con.execute("UPDATE scenarios SET share_token=? WHERE id=?",
                            (secrets.token_urlsafe(24), sid))
            for stmt in INDEXES.strip().split(";"):
                if stmt.strip():
                    con.execute(stmt)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @staticmethod
    def _meta(con: sqlite3.Connection, key: str) -> str | None:
        row = con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def legacy_workspace(self) -> str | None:
        """The workspace that holds the scenarios saved before workspaces existed."""
        with self._connect() as con:
            return self._meta(con, "legacy_workspace")

    def workspaces(self) -> list[tuple[str, int]]:
        """Every workspace with its number of saved scenarios (administration)."""
        with self._connect() as con:
            rows = con.execute("SELECT workspace, COUNT(*) FROM scenarios GROUP BY workspace "
                               "ORDER BY COUNT(*) DESC").fetchall()
        return [(str(w), int(n)) for w, n in rows]

    # ---- writes ----------------------------------------------------------------------------
    def save(self, workspace: str, district_hash: str, scenario: Scenario,
             kpis: Mapping[str, float] | None = None, scenario_id: str | None = None) -> str:
        """Save into ``workspace`` (``scenario_id`` given: overwrite that entry of this
        workspace) and return the id."""
        _check_workspace(workspace)
        now = time.time()
        payload = scenario.to_json(indent=None)
        headline = json.dumps({k: _finite(v) for k, v in (kpis or {}).items()
                               if k in HEADLINE_KPIS})
        with self._write() as con:
            if scenario_id is not None:
                cur = con.execute(
                    "UPDATE scenarios SET name=?, district_hash=?, content_hash=?, "
                    "scenario_json=?, kpis_json=?, updated_utc=? WHERE id=? AND workspace=?",
                    (scenario.name, district_hash, scenario.content_hash(), payload, headline,
                     now, str(scenario_id), workspace))
                if cur.rowcount == 0:
                    raise DecentraError(_not_found(scenario_id))
                return str(scenario_id)
            new_id = secrets.token_urlsafe(9)
            con.execute(f"INSERT INTO scenarios ({', '.join(COLUMNS)}) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (new_id, scenario.name, district_hash, scenario.content_hash(),
                         payload, headline, now, now, workspace, secrets.token_urlsafe(24)))
            return new_id

    def rename(self, workspace: str, scenario_id: str, name: str) -> None:
        saved = self.load(workspace, scenario_id)
        renamed = saved.scenario.renamed(name)   # validates the name
        with self._write() as con:
            cur = con.execute("UPDATE scenarios SET name=?, scenario_json=?, updated_utc=? "
                              "WHERE id=? AND workspace=?",
                              (renamed.name, renamed.to_json(indent=None), time.time(),
                               str(scenario_id), workspace))
            if cur.rowcount == 0:
                raise DecentraError(_not_found(scenario_id))

    def duplicate(self, workspace: str, scenario_id: str, name: str | None = None) -> str:
        saved = self.load(workspace, scenario_id)
        copy = saved.scenario.renamed(name or f"{saved.name} (copy)")
        return self.save(workspace, saved.district_hash, copy, saved.kpis)

    def delete(self, workspace: str, scenario_id: str) -> None:
        _check_workspace(workspace)
        with self._write() as con:
            cur = con.execute("DELETE FROM scenarios WHERE id=? AND workspace=?",
                              (str(scenario_id), workspace))
            if cur.rowcount == 0:
                raise DecentraError(_not_found(scenario_id))

    # ---- reads -----------------------------------------------------------------------------
    def load(self, workspace: str, scenario_id: str) -> SavedScenario:
        _check_workspace(workspace)
        if not isinstance(scenario_id, str) or not ID_RE.match(scenario_id):
            raise DecentraError(_not_found(scenario_id))
        with self._connect() as con:
            row = con.execute(SELECT + " WHERE id=? AND workspace=?",
                              (scenario_id, workspace)).fetchone()
        if row is None:
            raise DecentraError(_not_found(scenario_id))
        return _row(row)

    def load_shared(self, token: str) -> SavedScenario:
        """The scenario a share link names (any workspace): for a read-only copy."""
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            raise DecentraError("this share link is not valid (copy the whole link)")
        with self._connect() as con:
            row = con.execute(SELECT + " WHERE share_token=?", (token,)).fetchone()
        if row is None:
            raise DecentraError("this share link does not open anything (the scenario was "
                                "deleted)")
        return _row(row)

    def list(self, workspace: str, district_hash: str | Sequence[str] | None = None
             ) -> list[SavedScenario]:
        """The workspace's scenarios, newest first; of one district when ``district_hash``
        is given (a hash, or a district's :attr:`~District.lineage`)."""
        _check_workspace(workspace)
        query = SELECT + " WHERE workspace=?"
        args: tuple[Any, ...] = (workspace,)
        if district_hash is not None:
            keys = (district_hash,) if isinstance(district_hash, str) else tuple(district_hash)
            query += f" AND district_hash IN ({','.join('?' * len(keys))})"
            args = (workspace, *keys)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY updated_utc DESC", args).fetchall()
        return [_row(r) for r in rows]


def _check_workspace(workspace: object) -> None:
    if not valid_workspace(workspace):
        raise DecentraError("no workspace: reload the page")


def _not_found(scenario_id: object) -> str:
    shown = str(scenario_id)[:40]
    return f"no saved scenario {shown!r} in this workspace (it may have been deleted)"


def _row(row: tuple) -> SavedScenario:
    sid, name, dhash, chash, payload, kpis, created, updated, _ws, token = row
    return SavedScenario(sid, name, dhash, chash, Scenario.from_json(payload),
                         json.loads(kpis or "{}"), created, updated, token)


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v
