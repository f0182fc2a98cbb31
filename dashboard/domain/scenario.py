"""Scenarios: what the planner placed, as immutable, hashable values.

A :class:`Scenario` holds rooftop PV and battery placements per building, community batteries per
transformer, and a few simulation parameters. Placements are kept sorted by id, so two scenarios
with the same content are equal and hash alike whatever order they were built in.

JSON schema (version 2; version-1 files, without ``assumptions``, battery modes or PV export
limits, still open) — ``Scenario.to_json`` writes, ``Scenario.from_json`` reads::

    {
      "schema": "decentra.scenario",
      "version": 2,
      "name": "South roofs 60 %",
      "pv": [{"building_id": "B001", "kwp": 12.5, "tilt_deg": 30, "azimuth_deg": 180,
              "export_limit_share": null}],
      "batteries": [{"building_id": "B001", "capacity_kwh": 10, "power_kw": 5}],
      "community_batteries": [{"transformer_id": "T01", "capacity_kwh": 200, "power_kw": 100,
                               "mode": "peak_shaving", "import_limit_kw": 400,
                               "export_limit_kw": null}],
      "critical": [{"building_id": "B007", "critical": true}],
      "params": {"outage_horizon_h": null, "critical_load_fraction": null,
                 "battery_round_trip_efficiency": null, "battery_min_soc": null,
                 "pv_export_limit_share": null},
      "notes": "why these placements (optional; written by `suggest`)",
      "assumptions": {"econ.import_price_eur_per_kwh": 0.30,
                      "econ.pv_capex_by_class_eur_per_kwp": [1400, 1200, 1000, 900]}
    }

Units: kWp (DC peak power), degrees (tilt from horizontal; azimuth clockwise from north, 180 =
south, pvlib's convention), kWh (nominal capacity), kW (inverter power). ``null`` params mean "use
the district's assumptions table". ``critical`` (optional) marks buildings as critical facilities
or unmarks them, overriding the district's own flags (from OSM tags at import): which buildings
must keep running is the planner's choice, what the buildings are is data.
``assumptions`` (optional, version 2) overrides rows of the district's assumptions table for
this scenario: prices, costs, discount rate, lifetimes, critical-load shares, emission factor
(the keys, units and bounds are :data:`dashboard.domain.overrides.REGISTRY`); values are
numbers or lists of numbers. They change results, so they are part of the content hash.

Version 2 adds (all optional, defaults = version 1's behaviour): a community battery's ``mode``
(``"self_consumption"``, the greedy dispatch, or ``"peak_shaving"`` of its transformer with
``import_limit_kw`` / ``export_limit_kw``, ``null`` = no limit on that side; see
``dashboard.energy.storage.peak_shave_step``) and a PV export limit as a share of kWp at each
building's meter (``params.pv_export_limit_share`` for every PV system, a placement's
``export_limit_share`` overrides it; ``null`` = no limit). PV above the limit (after the
building's own battery) is curtailed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from operator import attrgetter
from typing import Any

from dashboard.domain import overrides as overrides_registry
from dashboard.domain.errors import DecentraError
from dashboard.domain.safejson import loads_json
from dashboard.domain.validate import number

SCHEMA_NAME = "decentra.scenario"
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)      # version 1: no assumptions, battery modes or PV export limit
MAX_SCENARIO_JSON_BYTES = 50 * 2**20     # a scenario of every building of a large city

# Physical bounds a single placement must respect. District-dependent bounds (kWp that fits on
# the roof, ids that exist) are checked by ``dashboard.scenarios.validate``.
MAX_PV_KWP = 100_000.0          # 100 MWp: more than any roof
MAX_BATTERY_KWH = 1_000_000.0   # 1 GWh
MAX_BATTERY_KW = 500_000.0
MAX_HORIZON_H = 8760
MAX_NOTES_CHARS = 100_000       # free text (the optimizer's explanation); not in the hash


@dataclass(frozen=True, order=True)
class PvPlacement:
    """Rooftop PV on one building."""

    building_id: str
    kwp: float
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    export_limit_share: float | None = None   # export <= share x kWp at the meter (None: params)

    def __post_init__(self) -> None:
        object.__setattr__(self, "building_id", _check_id(self.building_id, "building id"))
        object.__setattr__(self, "kwp", number(
            self.kwp, f"PV size of building {self.building_id} [kWp]", 0, MAX_PV_KWP,
            lo_open=True))
        object.__setattr__(self, "tilt_deg", number(
            self.tilt_deg, f"PV tilt of building {self.building_id} [deg]", 0, 90))
        az = number(self.azimuth_deg, f"PV azimuth of building {self.building_id} [deg]",
                           0, 360)
        object.__setattr__(self, "azimuth_deg", az % 360.0)
        if self.export_limit_share is not None:
            object.__setattr__(self, "export_limit_share", number(
                self.export_limit_share,
                f"PV export limit of building {self.building_id} [share of kWp]", 0, 1))


@dataclass(frozen=True, order=True)
class BatteryPlacement:
    """A behind-the-meter battery in one building."""

    building_id: str
    capacity_kwh: float
    power_kw: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "building_id", _check_id(self.building_id, "building id"))
        object.__setattr__(self, "capacity_kwh", number(
            self.capacity_kwh, f"battery capacity of building {self.building_id} [kWh]", 0,
            MAX_BATTERY_KWH, lo_open=True))
        object.__setattr__(self, "power_kw", number(
            self.power_kw, f"battery power of building {self.building_id} [kW]", 0,
            MAX_BATTERY_KW, lo_open=True))


BATTERY_MODES = ("self_consumption", "peak_shaving")


@dataclass(frozen=True, order=True)
class CommunityBattery:
    """A shared battery at a transformer, dispatched on the transformer's pooled net load.

    mode: ``"self_consumption"`` (greedy: store the area's surplus, cover its deficit) or
        ``"peak_shaving"`` (keep the transformer's import <= ``import_limit_kw`` and its export
        <= ``export_limit_kw``; ``None`` = no limit on that side, at least one is needed).
    """

    transformer_id: str
    capacity_kwh: float
    power_kw: float
    mode: str = "self_consumption"
    import_limit_kw: float | None = None
    export_limit_kw: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "transformer_id", _check_id(self.transformer_id,
                                                             "transformer id"))
        object.__setattr__(self, "capacity_kwh", number(
            self.capacity_kwh, f"community battery capacity at {self.transformer_id} [kWh]", 0,
            MAX_BATTERY_KWH, lo_open=True))
        object.__setattr__(self, "power_kw", number(
            self.power_kw, f"community battery power at {self.transformer_id} [kW]", 0,
            MAX_BATTERY_KW, lo_open=True))
        if self.mode not in BATTERY_MODES:
            raise DecentraError(f"community battery mode at {self.transformer_id} must be one "
                                f"of {', '.join(BATTERY_MODES)}, got {self.mode!r}")
        for name in ("import_limit_kw", "export_limit_kw"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, number(
                    value, f"community battery {name.replace('_kw', '').replace('_', ' ')} at "
                    f"{self.transformer_id} [kW]", 0, MAX_BATTERY_KW * 100))
        if (self.mode == "peak_shaving" and self.import_limit_kw is None
                and self.export_limit_kw is None):
            raise DecentraError(f"peak shaving at {self.transformer_id} needs an import limit "
                                "or an export limit [kW]")


@dataclass(frozen=True, order=True)
class CriticalMark:
    """The planner's word on one building: a critical facility (``True``) or not (``False``),
    whatever the district's own flag says."""

    building_id: str
    critical: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "building_id", _check_id(self.building_id, "building id"))
        if not isinstance(self.critical, bool):
            raise DecentraError(f"critical of building {self.building_id} must be true or "
                                f"false, got {self.critical!r}")


@dataclass(frozen=True)
class ScenarioParams:
    """Simulation parameters; ``None`` means "take it from the district's assumptions table".

    outage_horizon_h: longest outage simulated [h], 1..8760.
    critical_load_fraction: share of demand that must be served in an outage [0..1], for all
        buildings but critical facilities, which keep ``critical.load_share`` (``None``: per
        use type from the assumptions).
    battery_round_trip_efficiency: AC-AC round-trip efficiency (0..1].
    battery_min_soc: reserve kept in every battery [0..1).
    pv_export_limit_share: PV export limit at each building's meter as a share of its kWp
        [0..1] (for example 0.6); ``None``: no limit (not an assumptions-table value).
    """

    outage_horizon_h: int | None = None
    critical_load_fraction: float | None = None
    battery_round_trip_efficiency: float | None = None
    battery_min_soc: float | None = None
    pv_export_limit_share: float | None = None

    def __post_init__(self) -> None:
        if self.outage_horizon_h is not None:
            h = number(self.outage_horizon_h, "outage horizon [h]", 1, MAX_HORIZON_H)
            if h != int(h):
                raise DecentraError(
                    f"outage horizon [h] must be a whole number of hours, got {h:g}")
            object.__setattr__(self, "outage_horizon_h", int(h))
        if self.critical_load_fraction is not None:
            object.__setattr__(self, "critical_load_fraction", number(
                self.critical_load_fraction, "critical load fraction", 0, 1, lo_open=True))
        if self.battery_round_trip_efficiency is not None:
            object.__setattr__(self, "battery_round_trip_efficiency", number(
                self.battery_round_trip_efficiency, "battery round-trip efficiency", 0, 1,
                lo_open=True))
        if self.battery_min_soc is not None:
            object.__setattr__(self, "battery_min_soc", number(
                self.battery_min_soc, "battery minimum state of charge", 0, 1, hi_open=True))
        if self.pv_export_limit_share is not None:
            object.__setattr__(self, "pv_export_limit_share", number(
                self.pv_export_limit_share, "PV export limit [share of kWp]", 0, 1))


def _check_id(value: object, what: str) -> str:
    if isinstance(value, bool) or value is None:
        raise DecentraError(f"{what} must be text, got {value!r}")
    text = str(value).strip()
    if not text or len(text) > 200:
        raise DecentraError(f"{what} must be 1-200 characters, got {value!r}")
    return text


def _unique_sorted(items: Iterable[Any], key: str, what: str) -> tuple[Any, ...]:
    out = tuple(sorted(items, key=lambda p: getattr(p, key)))
    dupes = sorted({getattr(a, key) for a, b in itertools.pairwise(out)
                    if getattr(a, key) == getattr(b, key)})
    if dupes:
        raise DecentraError(f"{what} placed twice on the same {key.replace('_', ' ')}",
                            rows=dupes)
    return out


def _item_digest(tag: str, item: Any) -> int:
    """128-bit hash of one placement; a scenario's digest is the sum of its items' digests, so
    an edit updates it in O(1) instead of rehashing every placement."""
    text = repr((tag, *(getattr(item, f.name) for f in fields(item))))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")


_MASK = (1 << 128) - 1


def _replace_sorted(items: tuple[Any, ...], new: Iterable[Any], drop: Iterable[str], key: str,
                    tag: str, digest: int | None) -> tuple[tuple[Any, ...], int | None, set[str]]:
    """Insert/replace ``new`` and remove ``drop`` ids in a tuple sorted by ``key``, keeping it
    sorted, and update the additive digest. Returns (items, digest, changed ids)."""
    getkey = attrgetter(key)
    out = list(items)
    changed: set[str] = set()
    for item in new:
        ident = getkey(item)
        i = bisect_left(out, ident, key=getkey)
        if i < len(out) and getkey(out[i]) == ident:
            if out[i] == item:
                continue
            if digest is not None:
                digest = (digest - _item_digest(tag, out[i])) & _MASK
            out[i] = item
        else:
            out.insert(i, item)
        if digest is not None:
            digest = (digest + _item_digest(tag, item)) & _MASK
        changed.add(ident)
    for ident in drop:
        i = bisect_left(out, ident, key=getkey)
        if i < len(out) and getkey(out[i]) == ident:
            if digest is not None:
                digest = (digest - _item_digest(tag, out[i])) & _MASK
            del out[i]
            changed.add(ident)
    return tuple(out), digest, changed


@dataclass(frozen=True)
class Lineage:
    """How a scenario was derived from its parent by an edit (lets the engine recompute only
    what changed): the parent's content hash and the building / transformer ids edited."""

    parent_hash: str
    building_ids: frozenset[str]
    transformer_ids: frozenset[str]
    params_changed: bool = False
    assumption_keys: frozenset[str] = frozenset()   # overrides set, changed or dropped


@dataclass(frozen=True)
class Scenario:
    """PV and storage placements plus parameters. Immutable; edits return new scenarios."""

    name: str = "Untitled scenario"
    pv: tuple[PvPlacement, ...] = ()
    batteries: tuple[BatteryPlacement, ...] = ()
    community_batteries: tuple[CommunityBattery, ...] = ()
    params: ScenarioParams = field(default_factory=ScenarioParams)
    critical: tuple[CriticalMark, ...] = ()
    notes: str = field(default="", compare=False)
    assumptions: tuple[tuple[str, overrides_registry.Value], ...] = ()
    _digest: int | None = field(default=None, init=False, repr=False, compare=False)
    lineage: Lineage | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = str(self.name).strip() or "Untitled scenario"
        if len(name) > 200:
            raise DecentraError("scenario name must be at most 200 characters")
        object.__setattr__(self, "name", name)
        notes = str(self.notes)
        if len(notes) > MAX_NOTES_CHARS:
            raise DecentraError(f"scenario notes must be at most {MAX_NOTES_CHARS:,} characters")
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "assumptions",
                           overrides_registry.normalize(self.assumptions))
        if not isinstance(self.params, ScenarioParams):
            raise DecentraError("scenario params must be ScenarioParams")
        object.__setattr__(self, "pv", _unique_sorted(self.pv, "building_id", "PV"))
        object.__setattr__(self, "batteries",
                           _unique_sorted(self.batteries, "building_id", "battery"))
        object.__setattr__(self, "community_batteries", _unique_sorted(
            self.community_batteries, "transformer_id", "community battery"))
        object.__setattr__(self, "critical",
                           _unique_sorted(self.critical, "building_id", "critical mark"))
        for items, kind in ((self.pv, PvPlacement), (self.batteries, BatteryPlacement),
                            (self.community_batteries, CommunityBattery),
                            (self.critical, CriticalMark)):
            for item in items:
                if not isinstance(item, kind):
                    raise DecentraError(f"expected {kind.__name__}, got {type(item).__name__}")

    @classmethod
    def _derived(cls, parent: Scenario, *, pv: tuple[PvPlacement, ...] | None = None,
                 batteries: tuple[BatteryPlacement, ...] | None = None,
                 community: tuple[CommunityBattery, ...] | None = None,
                 critical: tuple[CriticalMark, ...] | None = None,
                 digest: int | None = None, buildings: set[str] | frozenset[str] = frozenset(),
                 transformers: set[str] | frozenset[str] = frozenset()) -> Scenario:
        """A child scenario built without re-validating the parent's (valid, sorted) items."""
        child = object.__new__(cls)
        object.__setattr__(child, "name", parent.name)
        object.__setattr__(child, "pv", parent.pv if pv is None else pv)
        object.__setattr__(child, "batteries", parent.batteries if batteries is None
                           else batteries)
        object.__setattr__(child, "community_batteries", parent.community_batteries
                           if community is None else community)
        object.__setattr__(child, "params", parent.params)
        object.__setattr__(child, "critical", parent.critical if critical is None
                           else critical)
        object.__setattr__(child, "notes", parent.notes)
        object.__setattr__(child, "assumptions", parent.assumptions)
        object.__setattr__(child, "_digest", digest)
        object.__setattr__(child, "lineage", Lineage(parent.content_hash(),
                                                     frozenset(buildings),
                                                     frozenset(transformers)))
        return child

    # ---- lookups -------------------------------------------------------------------------
    def pv_by_building(self) -> dict[str, PvPlacement]:
        return {p.building_id: p for p in self.pv}

    def battery_by_building(self) -> dict[str, BatteryPlacement]:
        return {b.building_id: b for b in self.batteries}

    def community_by_transformer(self) -> dict[str, CommunityBattery]:
        return {c.transformer_id: c for c in self.community_batteries}

    def pv_of(self, building_id: str) -> PvPlacement | None:
        return _find(self.pv, "building_id", building_id)

    def battery_of(self, building_id: str) -> BatteryPlacement | None:
        return _find(self.batteries, "building_id", building_id)

    def community_battery_of(self, transformer_id: str) -> CommunityBattery | None:
        return _find(self.community_batteries, "transformer_id", transformer_id)

    def critical_of(self, building_id: str) -> bool | None:
        """The planner's mark on a building (None: the district's own flag holds)."""
        mark = _find(self.critical, "building_id", building_id)
        return None if mark is None else bool(mark.critical)

    # ---- edits (each returns a new Scenario that remembers what changed) -----------------
    def renamed(self, name: str) -> Scenario:
        child = replace(self, name=name)
        object.__setattr__(child, "_digest", self._digest)
        return child

    def with_notes(self, notes: str) -> Scenario:
        """The same placements with other notes (notes do not change results or the hash)."""
        child = replace(self, notes=notes)
        object.__setattr__(child, "_digest", self._digest)
        return child

    def _edit(self, attr: str, key: str, tag: str, new: Iterable[Any],
              drop: Iterable[str] = ()) -> Scenario:
        items, digest, changed = _replace_sorted(getattr(self, attr), new, drop, key, tag,
                                                 self._ensure_digest())
        if not changed:
            return self
        kwargs: dict[str, Any] = {"pv": None, "batteries": None, "community": None,
                                  "critical": None}
        kwargs["community" if attr == "community_batteries" else attr] = items
        if key == "building_id":
            return Scenario._derived(self, digest=digest, buildings=changed, **kwargs)
        return Scenario._derived(self, digest=digest, transformers=changed, **kwargs)

    def derived_from(self, ancestor: Scenario) -> Scenario:
        """This scenario with its lineage pointing at ``ancestor`` (several building edits
        seen as one, so that the engine recomputes from ``ancestor`` incrementally). The
        buildings whose PV, battery or critical mark differ are the edited ones; when community
        batteries, parameters or assumption overrides differ the scenario is returned as it
        is."""
        if (self.community_batteries != ancestor.community_batteries
                or self.params != ancestor.params or self.assumptions != ancestor.assumptions):
            return self
        changed: set[str] = set()
        for attr in ("pv", "batteries", "critical"):
            mine = {x.building_id: x for x in getattr(self, attr)}
            theirs = {x.building_id: x for x in getattr(ancestor, attr)}
            changed |= {b for b in mine.keys() | theirs.keys() if mine.get(b) != theirs.get(b)}
        child = Scenario._derived(self, digest=self._ensure_digest(), buildings=changed)
        object.__setattr__(child, "lineage", Lineage(ancestor.content_hash(),
                                                     frozenset(changed), frozenset()))
        return child

    def with_pv(self, *placements: PvPlacement) -> Scenario:
        """Add or replace PV on the placements' buildings."""
        return self._edit("pv", "building_id", "pv", _typed(placements, PvPlacement))

    def without_pv(self, *building_ids: str) -> Scenario:
        return self._edit("pv", "building_id", "pv", (), building_ids)

    def with_battery(self, *placements: BatteryPlacement) -> Scenario:
        return self._edit("batteries", "building_id", "battery",
                          _typed(placements, BatteryPlacement))

    def without_battery(self, *building_ids: str) -> Scenario:
        return self._edit("batteries", "building_id", "battery", (), building_ids)

    def with_community_battery(self, *placements: CommunityBattery) -> Scenario:
        return self._edit("community_batteries", "transformer_id", "community",
                          _typed(placements, CommunityBattery))

    def without_community_battery(self, *transformer_ids: str) -> Scenario:
        return self._edit("community_batteries", "transformer_id", "community", (),
                          transformer_ids)

    def with_critical(self, *marks: CriticalMark) -> Scenario:
        """Mark buildings critical (or not), overriding the district's flags."""
        return self._edit("critical", "building_id", "critical",
                          _typed(marks, CriticalMark))

    def without_critical(self, *building_ids: str) -> Scenario:
        """Drop the planner's marks: the district's own flags hold again."""
        return self._edit("critical", "building_id", "critical", (), building_ids)

    def assumption_overrides(self) -> dict[str, overrides_registry.Value]:
        """The scenario's overrides of the district's assumptions, key -> value."""
        return dict(self.assumptions)

    def with_assumptions(self, changes: Mapping[str, Any]) -> Scenario:
        """Set (or, with value ``None``, drop) overrides of the district's assumptions. The
        child remembers which keys changed, so the engine can re-price without simulating
        again where only money changes. Invalid keys or impossible values: DecentraError,
        this scenario unchanged."""
        current = dict(self.assumptions)
        for key, value in changes.items():
            if value is None:
                current.pop(key, None)
            else:
                k, v = overrides_registry.check(key, value)
                current[k] = v
        new = tuple(sorted(current.items()))
        if new == self.assumptions:
            return self
        changed = {k for k in set(current) | set(dict(self.assumptions))
                   if current.get(k) != dict(self.assumptions).get(k)}
        child = replace(self, assumptions=new)
        object.__setattr__(child, "_digest", self._digest)
        object.__setattr__(child, "lineage", Lineage(self.content_hash(), frozenset(),
                                                     frozenset(),
                                                     assumption_keys=frozenset(changed)))
        return child

    def with_params(self, **changes: Any) -> Scenario:
        return replace(self, params=replace(self.params, **changes))

    # ---- identity ------------------------------------------------------------------------
    def _ensure_digest(self) -> int:
        if self._digest is None:
            total = 0
            for tag, items in (("pv", self.pv), ("battery", self.batteries),
                               ("community", self.community_batteries),
                               ("critical", self.critical)):
                for item in items:
                    total += _item_digest(tag, item)
            object.__setattr__(self, "_digest", total & _MASK)
        assert self._digest is not None
        return self._digest

    def content_hash(self) -> str:
        """Hash of everything that changes results (the name does not). O(1) after an edit."""
        params = repr(tuple(getattr(self.params, f.name) for f in fields(self.params)))
        text = f"{SCHEMA_VERSION}|{self._ensure_digest():032x}|{params}"
        if self.assumptions:
            text += f"|{self.assumptions!r}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    # ---- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_NAME,
            "version": SCHEMA_VERSION,
            "name": self.name,
            "pv": [_record(p) for p in self.pv],
            "batteries": [asdict(b) for b in self.batteries],
            "community_batteries": [_record(c) for c in self.community_batteries],
            "params": asdict(self.params),
            **({"critical": [asdict(c) for c in self.critical]} if self.critical else {}),
            **({"notes": self.notes} if self.notes else {}),
            **({"assumptions": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in self.assumptions}} if self.assumptions else {}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: object) -> Scenario:
        if not isinstance(data, Mapping):
            raise DecentraError("a scenario must be a JSON object")
        if data.get("schema") != SCHEMA_NAME:
            raise DecentraError(
                f"not a Decentra scenario (expected \"schema\": \"{SCHEMA_NAME}\")")
        version = data.get("version")
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            raise DecentraError(
                f"scenario schema version {version!r} is not supported; this Decentra reads "
                f"versions {', '.join(map(str, READABLE_VERSIONS))}")
        known = {"schema", "version", "name", "pv", "batteries", "community_batteries", "params",
                 "critical", "notes", *(("assumptions",) if version != 1 else ())}
        extra = sorted(set(data) - known)
        if extra:
            raise DecentraError(f"unknown scenario fields: {', '.join(extra)}")
        return cls(
            name=str(data.get("name", "Untitled scenario")),
            pv=tuple(_build(PvPlacement, rec, "pv") for rec in _list(data, "pv")),
            batteries=tuple(_build(BatteryPlacement, rec, "batteries")
                            for rec in _list(data, "batteries")),
            community_batteries=tuple(_build(CommunityBattery, rec, "community_batteries")
                                      for rec in _list(data, "community_batteries")),
            params=_build(ScenarioParams, data.get("params") or {}, "params"),
            critical=tuple(_build(CriticalMark, rec, "critical")
                           for rec in _list(data, "critical")),
            notes=str(data.get("notes") or ""),
            assumptions=_assumptions(data.get("assumptions")),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        """A scenario from its JSON (untrusted: size, nesting and number caps)."""
        try:
            data = loads_json(text, source="scenario", max_bytes=MAX_SCENARIO_JSON_BYTES,
                              max_depth=8)
        except DecentraError as err:
            raise DecentraError(f"not a scenario: {err.message}") from None
        return cls.from_dict(data)


def _assumptions(value: object) -> tuple[tuple[str, overrides_registry.Value], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise DecentraError("scenario field 'assumptions' must be an object of key: value")
    return overrides_registry.normalize(value)


# version-2 fields written only when they differ from their default (files stay as small as
# version 1's for scenarios that do not use them)
_OPTIONAL_FIELDS = {"export_limit_share": None, "mode": "self_consumption",
                    "import_limit_kw": None, "export_limit_kw": None}


def _record(item: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(item).items()
            if k not in _OPTIONAL_FIELDS or v != _OPTIONAL_FIELDS[k]}


def _find(items: tuple[Any, ...], key: str, ident: str) -> Any:
    getkey = attrgetter(key)
    i = bisect_left(items, ident, key=getkey)
    if i < len(items) and getkey(items[i]) == ident:
        return items[i]
    return None


def _typed(items: Iterable[Any], kind: type) -> list[Any]:
    out = list(items)
    for item in out:
        if not isinstance(item, kind):
            raise DecentraError(f"expected {kind.__name__}, got {type(item).__name__}")
    ids = [getattr(i, "building_id", None) or getattr(i, "transformer_id", None) for i in out]
    if len(set(ids)) != len(ids):
        raise DecentraError(f"{kind.__name__} given twice for the same id")
    return out


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise DecentraError(f"scenario field '{key}' must be a list")
    return value


def _build(kind: type, rec: object, where: str) -> Any:
    if not isinstance(rec, Mapping):
        raise DecentraError(f"each entry of '{where}' must be an object")
    names = {f.name for f in fields(kind)}
    extra = sorted(set(rec) - names)
    if extra:
        raise DecentraError(f"unknown fields in '{where}': {', '.join(extra)}")
    try:
        return kind(**rec)
    except TypeError as err:
        required = [f.name for f in fields(kind)
                    if f.init and f.default is MISSING and f.default_factory is MISSING]
        missing = [n for n in required if n not in rec]
        raise DecentraError(f"an entry of '{where}' lacks {', '.join(missing) or err}") from None
