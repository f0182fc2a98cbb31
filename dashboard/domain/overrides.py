"""The assumptions a planner may override in a scenario: a registry as data.

Like PyPSA's ``component_attrs`` tables, each row says what a value is, in which unit, what is
usual and what is possible: ``key`` (the row of ``data/assumptions.csv`` it overrides), a
label, the unit, the *usual range* (a value outside gets a plausibility warning but is
accepted) and the *hard bounds* (a value outside is impossible: one DecentraError). ``kind``
says how many numbers the value holds:

- ``number``: one number;
- ``list``: several numbers (e.g. one PV price per size class), each within the bounds;
- ``hours``: a window ``[start, end)`` of hours of the day, two numbers 0..24, start < end;
- ``profile``: an hourly series, 24 numbers (hour of day 0..23, the same every day) or 8760
  (every hour of the typical year), each within the bounds.

Rows whose district value may be unset (``optional``): the time-of-use import tariff
(``econ.import_peak_price_eur_per_kwh``: when set, import in the peak window of weekdays
Monday to Friday costs this instead of the flat ``econ.import_price_eur_per_kwh``; the window is
``econ.import_peak_hours``, default 17-21 h) and the hourly emission factor
(``emissions.hourly_kg_co2_per_kwh``: when set it replaces the flat
``emissions.grid_kg_co2_per_kwh`` hour by hour). Unset, the tariff and the factor are flat.

``use.<type>.critical_load_fraction`` is one row for every use type (``<type>`` is checked
against the district's own use types when a scenario is evaluated).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.domain.errors import DecentraError

Value = float | tuple[float, ...]

MAX_PROFILE_HOURS = 8760


@dataclass(frozen=True)
class Overridable:
    """One assumption a scenario may override."""

    key: str
    label: str
    unit: str
    group: str
    usual_lo: float
    usual_hi: float
    hard_lo: float
    hard_hi: float
    kind: str = "number"          # number | list | hours | profile
    integer: bool = False
    optional: bool = False        # the district's table may lack it (unset = flat)
    default: str = ""             # shown / used where the district's table lacks the row


_R = Overridable
REGISTRY: tuple[Overridable, ...] = (
    _R("econ.pv_capex_by_class_eur_per_kwp", "PV price by size class", "EUR/kWp", "Costs",
       500, 2500, 0, 20_000, kind="list"),
    _R("econ.battery_capex_eur_per_kwh", "Home battery, energy", "EUR/kWh", "Costs",
       150, 1200, 0, 10_000),
    _R("econ.battery_capex_eur_per_kw", "Home battery, power", "EUR/kW", "Costs",
       0, 600, 0, 10_000),
    _R("econ.community_battery_capex_eur_per_kwh", "Community battery, energy", "EUR/kWh",
       "Costs", 100, 900, 0, 10_000),
    _R("econ.community_battery_capex_eur_per_kw", "Community battery, power", "EUR/kW",
       "Costs", 0, 600, 0, 10_000),
    _R("econ.pv_om_eur_per_kwp_a", "PV operation and maintenance", "EUR/(kWp a)", "Costs",
       5, 50, 0, 1_000),
    _R("econ.import_price_eur_per_kwh", "Import tariff (flat / off-peak)", "EUR/kWh",
       "Prices", 0.05, 0.6, 0, 10),
    _R("econ.import_peak_price_eur_per_kwh", "Import tariff, peak (time of use)", "EUR/kWh",
       "Prices", 0.05, 1.0, 0, 10, optional=True),
    _R("econ.import_peak_hours", "Peak hours, Mon-Fri (from; to)", "h", "Prices",
       0, 24, 0, 24, kind="hours", optional=True, default="17;21"),
    _R("econ.export_price_eur_per_kwh", "Feed-in price", "EUR/kWh", "Prices",
       0, 0.3, -1, 10),
    _R("econ.discount_rate", "Discount rate (real)", "1/a", "Finance", 0, 0.12, -0.5, 1),
    _R("econ.pv_lifetime_a", "PV lifetime", "a", "Finance", 15, 40, 1, 60, integer=True),
    _R("econ.battery_lifetime_a", "Battery lifetime", "a", "Finance", 8, 25, 1, 60,
       integer=True),
    _R("econ.pv_degradation_per_a", "PV degradation", "1/a", "Finance", 0, 0.015, 0, 0.2),
    _R("emissions.grid_kg_co2_per_kwh", "Grid emission factor (flat)", "kg/kWh", "Emissions",
       0.01, 1.1, 0, 3),
    _R("emissions.hourly_kg_co2_per_kwh", "Grid emission factor, hourly (24 or 8760 values)",
       "kg/kWh", "Emissions", 0.0, 1.1, 0, 3, kind="profile", optional=True),
    _R("critical.load_share", "Critical load share, critical facilities", "1", "Resilience",
       0.3, 1.0, 0, 1),
    _R("use.*.critical_load_fraction", "Critical load share", "1", "Resilience",
       0.2, 0.9, 0, 1),
)

# Keys whose change alters the hourly simulation or the outage simulation (all others change
# only the money and CO2 computed from the simulated energy).
SIMULATION_KEYS = ("critical.load_share", "use.*.critical_load_fraction")
# Keys whose change alters which hours are weighted (peak window, hourly emission factor):
# the hourly energy stays, the weighted sums are taken again.
WEIGHT_KEYS = ("econ.import_peak_price_eur_per_kwh", "econ.import_peak_hours",
               "emissions.hourly_kg_co2_per_kwh")

CRITICAL_SHARE_KEY = "critical.load_share"
_USE_KEY = re.compile(r"^use\.([A-Za-z0-9_-]{1,40})\.critical_load_fraction$")
_BY_KEY = {r.key: r for r in REGISTRY}


def spec(key: object) -> Overridable:
    """The registry row of ``key`` (``use.<type>.critical_load_fraction`` matches the
    ``use.*`` row); DecentraError for a key that cannot be overridden."""
    if isinstance(key, str):
        hit = _BY_KEY.get(key)
        if hit is None and _USE_KEY.match(key):
            hit = _BY_KEY["use.*.critical_load_fraction"]
        if hit is not None:
            return hit
    raise DecentraError(f"'{str(key)[:80]}' is not an assumption a scenario can override "
                        f"(these can: {', '.join(r.key for r in REGISTRY)})",
                        source="scenario assumptions")


def is_simulation_key(key: str) -> bool:
    return spec(key).key in SIMULATION_KEYS


def is_weight_key(key: str) -> bool:
    return key in WEIGHT_KEYS


def _num(value: object, what: str) -> float:
    if value is None or isinstance(value, bool):
        raise DecentraError(f"{what} must be a number, got {value!r}",
                            source="scenario assumptions")
    try:
        x = float(value.strip().replace(",", ".")) if isinstance(value, str) else float(
            value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise DecentraError(f"{what} must be a number, got '{str(value)[:40]}'",
                            source="scenario assumptions") from None
    if not math.isfinite(x):
        raise DecentraError(f"{what} must be finite, got {x}", source="scenario assumptions")
    return x


def _numbers(value: object, what: str) -> tuple[float, ...]:
    if isinstance(value, str):
        parts: Iterable[object] = [p for p in re.split(r"[;\s]+", value.strip()) if p]
    elif isinstance(value, Iterable):
        parts = list(value)
    else:
        parts = [value]
    return tuple(_num(p, what) for p in parts)


def check(key: object, value: object) -> tuple[str, Value]:
    """``(key, value)`` validated against the registry: a float for ``number`` rows, a tuple of
    floats for the others. DecentraError names the key and the bound broken (hard bounds)."""
    row = spec(key)
    k = str(key)
    what = f"{k} [{row.unit}]"

    def bounded(x: float) -> float:
        if not row.hard_lo <= x <= row.hard_hi:
            raise DecentraError(f"{what} must be between {row.hard_lo:g} and {row.hard_hi:g}; "
                                f"{x:g} is impossible", source="scenario assumptions")
        if row.integer and x != int(x):
            raise DecentraError(f"{what} must be a whole number, got {x:g}",
                                source="scenario assumptions")
        return x

    if row.kind == "number":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise DecentraError(f"{what} must be one number, got {str(value)[:40]!r}",
                                source="scenario assumptions")
        return k, bounded(_num(value, what))
    values = tuple(bounded(x) for x in _numbers(value, what))
    if row.kind == "hours":
        if len(values) != 2 or not values[0] < values[1]:
            raise DecentraError(f"{what} must be two hours 'from;to' with from < to, got "
                                f"{';'.join(f'{v:g}' for v in values)}",
                                source="scenario assumptions")
    elif row.kind == "profile":
        if len(values) not in (24, MAX_PROFILE_HOURS):
            raise DecentraError(f"{what} needs 24 values (hour of day) or 8760 (every hour "
                                f"of the year), got {len(values)}",
                                source="scenario assumptions")
    elif not values:
        raise DecentraError(f"{what} needs at least one number", source="scenario assumptions")
    return k, values


def normalize(overrides: Mapping[str, object] | Iterable[tuple[str, object]] | None,
              ) -> tuple[tuple[str, Value], ...]:
    """Overrides as a tuple of validated ``(key, value)`` pairs sorted by key (hashable)."""
    if overrides is None:
        return ()
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    out: dict[str, Value] = {}
    for pair in items:
        try:
            key, value = pair
        except (TypeError, ValueError):
            raise DecentraError("scenario assumptions must be key: value pairs",
                                source="scenario assumptions") from None
        k, v = check(key, value)
        if k in out:
            raise DecentraError(f"assumption '{k}' is overridden twice",
                                source="scenario assumptions")
        out[k] = v
    return tuple(sorted(out.items()))


def as_text(value: Value) -> str:
    """A value as the assumptions table writes it (lists ';'-separated)."""
    if isinstance(value, tuple):
        return ";".join(f"{v:g}" if abs(v) >= 1e-4 or v == 0 else repr(v) for v in value)
    return f"{value:g}" if value == int(value) or abs(value) >= 1e-4 else repr(value)


def exact_text(value: Value) -> str:
    """A value as an assumptions-table cell that reads back exactly (``repr`` of each float;
    :func:`as_text` rounds to 6 digits for display)."""
    values = value if isinstance(value, tuple) else (value,)
    return ";".join(repr(float(v)) for v in values)


def plausibility(key: str, value: Value) -> str | None:
    """A warning when ``value`` lies outside the usual range of ``key`` (still accepted), or
    None."""
    row = spec(key)
    values = value if isinstance(value, tuple) else (value,)
    if row.kind == "hours":
        return None
    odd = [v for v in values if not row.usual_lo <= v <= row.usual_hi]
    if not odd:
        return None
    shown = ", ".join(f"{v:g}" for v in odd[:3]) + (" …" if len(odd) > 3 else "")
    return (f"{key} = {shown} {row.unit} is outside the usual {row.usual_lo:g}–"
            f"{row.usual_hi:g} {row.unit}: check the unit and the source")


def warnings(overrides: Iterable[tuple[str, Value]]) -> list[str]:
    """Plausibility warnings of a scenario's overrides, in key order."""
    return [w for k, v in overrides if (w := plausibility(k, v)) is not None]


def table_rows(table: Any, current: Iterable[tuple[str, Value]]) -> list[dict[str, Any]]:
    """One row per overridable assumption of a district (``table``: its
    :class:`~dashboard.domain.assumptions.Assumptions`; ``use.*`` expanded to its use types):
    key, label, unit, group, the district's value as text (``unset`` for an optional row the
    table lacks), the scenario's override as text (``""``: none) and its plausibility
    warning (``""``: none). For the app's panel, the CLI and the report."""
    given = dict(current)
    keys: list[tuple[str, Overridable]] = []
    for row in REGISTRY:
        if row.key == "use.*.critical_load_fraction":
            keys += [(f"use.{u}.critical_load_fraction", row) for u in table.use_types()]
        else:
            keys.append((row.key, row))
    keys += [(k, spec(k)) for k in given if k not in dict(keys)]
    out = []
    for key, row in keys:
        district = table.text(key) if key in table else (
            f"unset ({row.default})" if row.default else "unset")
        label = (f"{row.label}, {key.split('.')[1]}" if key.startswith("use.") else row.label)
        value = given.get(key)
        out.append({"key": key, "label": label, "unit": row.unit, "group": row.group,
                    "kind": row.kind, "district": district,
                    "override": "" if value is None else as_text(value),
                    "warning": "" if value is None else (plausibility(key, value) or "")})
    return out


__all__ = [
    "CRITICAL_SHARE_KEY",
    "REGISTRY",
    "SIMULATION_KEYS",
    "WEIGHT_KEYS",
    "Overridable",
    "Value",
    "as_text",
    "check",
    "exact_text",
    "is_simulation_key",
    "is_weight_key",
    "normalize",
    "plausibility",
    "spec",
    "table_rows",
    "warnings",
]
