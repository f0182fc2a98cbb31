"""Planning assumptions as data.

Every number the engine uses that is not a property of a building or of the weather (specific
demand, module area per kWp, efficiencies, prices, emission factor, ...) is one row of the
assumptions table (``data/assumptions.csv``): key, value, unit, source, note. This module holds the
parsed table; reading the file is :mod:`dashboard.io.assumptions`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dashboard.domain.errors import DecentraError

# Construction periods (age classes). Boundaries: the age classes of the TABULA / IWU German
# residential building typology (Loga et al. 2015), merged into six classes.
PERIODS: tuple[tuple[str, float, float], ...] = (
    ("before_1919", -math.inf, 1918),
    ("1919_1948", 1919, 1948),
    ("1949_1978", 1949, 1978),
    ("1979_1994", 1979, 1994),
    ("1995_2009", 1995, 2009),
    ("since_2010", 2010, math.inf),
)
PERIOD_LABELS = {"before_1919": "before 1919", "1919_1948": "1919–1948",
                 "1949_1978": "1949–1978", "1979_1994": "1979–1994",
                 "1995_2009": "1995–2009", "since_2010": "2010 or later"}

# The critical-load share of critical facilities (hospitals, schools, shelters, ...) where a
# district's assumptions table predates the ``critical.load_share`` row (the same value).
CRITICAL_LOAD_SHARE_KEY = "critical.load_share"
CRITICAL_LOAD_SHARE_DEFAULT = 0.8


@dataclass(frozen=True)
class Assumption:
    key: str
    value: str
    unit: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Assumptions:
    """An immutable, ordered table of :class:`Assumption` rows with typed accessors."""

    rows: tuple[Assumption, ...]
    _index: Mapping[str, Assumption] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Assumption] = {}
        for row in self.rows:
            if row.key in index:
                raise DecentraError(f"assumption '{row.key}' is defined twice",
                                    source="assumptions")
            index[row.key] = row
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> Assumptions:
        rows = []
        for rec in records:
            rows.append(Assumption(
                key=str(rec["key"]).strip(), value=str(rec["value"]).strip(),
                unit=str(rec.get("unit", "") or ""), source=str(rec.get("source", "") or ""),
                note=str(rec.get("note", "") or "")))
        return cls(tuple(rows))

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def row(self, key: str) -> Assumption:
        try:
            return self._index[key]
        except KeyError:
            raise DecentraError(f"the assumptions table has no '{key}'",
                                source="assumptions") from None

    def text(self, key: str) -> str:
        return self.row(key).value

    def number(self, key: str) -> float:
        raw = self.row(key).value
        try:
            value = float(raw)
        except ValueError:
            raise DecentraError(f"'{key}' must be a number, got '{raw}'",
                                source="assumptions") from None
        if not math.isfinite(value):
            raise DecentraError(f"'{key}' must be finite, got '{raw}'", source="assumptions")
        return value

    def numbers(self, key: str) -> tuple[float, ...]:
        """A ';'-separated list of numbers."""
        parts = [p for p in self.row(key).value.split(";") if p.strip()]
        try:
            return tuple(float(p) for p in parts)
        except ValueError:
            raise DecentraError(f"'{key}' must be numbers separated by ';'",
                                source="assumptions") from None

    def use_types(self) -> tuple[str, ...]:
        """Building use types that have a full set of ``use.<type>.*`` rows, in table order."""
        seen: list[str] = []
        for row in self.rows:
            if row.key.startswith("use."):
                name = row.key.split(".")[1]
                if name not in seen:
                    seen.append(name)
        return tuple(seen)

    def use(self, use_type: str, name: str) -> float:
        return self.number(f"use.{use_type}.{name}")

    def use_text(self, use_type: str, name: str) -> str:
        return self.text(f"use.{use_type}.{name}")

    def with_values(self, **values: float | str) -> Assumptions:
        """A copy with some values replaced; keys use '__' for '.' (``pv__albedo=0.3``)."""
        updates = {k.replace("__", "."): str(v) for k, v in values.items()}
        unknown = [k for k in updates if k not in self._index]
        if unknown:
            raise DecentraError(f"unknown assumptions: {', '.join(unknown)}", source="assumptions")
        return Assumptions(tuple(
            Assumption(r.key, updates.get(r.key, r.value), r.unit, r.source, r.note)
            for r in self.rows))

    def overridden(self, pairs: Iterable[tuple[str, str]], source: str = "scenario override",
                   ) -> Assumptions:
        """A copy with the values of ``pairs`` (key, text) replaced; a key the table lacks is
        appended as a new row (unit and note empty, ``source`` as its source)."""
        updates = dict(pairs)
        if not updates:
            return self
        rows = [Assumption(r.key, updates.pop(r.key), r.unit, source, r.note)
                if r.key in updates else r for r in self.rows]
        rows += [Assumption(k, v, "", source) for k, v in updates.items()]
        return Assumptions(tuple(rows))

    def critical_load_share(self) -> float:
        """Share of a critical facility's demand that must be served in an outage (the
        documented default where an older table lacks the row)."""
        if CRITICAL_LOAD_SHARE_KEY not in self:
            return CRITICAL_LOAD_SHARE_DEFAULT
        value = self.number(CRITICAL_LOAD_SHARE_KEY)
        if not 0.0 < value <= 1.0:
            raise DecentraError(f"'{CRITICAL_LOAD_SHARE_KEY}' must be in (0, 1], got {value:g}",
                                source="assumptions")
        return value

    def records(self) -> list[dict[str, str]]:
        return [dict(key=r.key, value=r.value, unit=r.unit, source=r.source, note=r.note)
                for r in self.rows]
