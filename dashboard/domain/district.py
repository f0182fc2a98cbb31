"""The district: buildings, the low-voltage grid, weather and load profiles.

Schemas are data (name, dtype, unit, meaning), in the spirit of PyPSA's component attribute
tables; readers rename foreign columns to these canonical names and writers keep them.
Geometries are in EPSG:4326 (lon/lat); every length and area attribute was measured in a metric
CRS before being stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.errors import DecentraError

HOURS_PER_YEAR = 8760


@dataclass(frozen=True)
class Column:
    """One attribute of an entity: name, type, unit, meaning, the default filled in where a
    source lacks it, and the range of possible values (``lo``..``hi``, checked for every
    district, imported or read from a file: a value outside is refused)."""

    name: str
    dtype: str  # "str", "float", "int", "bool"
    unit: str
    description: str
    default: float | str | None = None   # filled in where a source lacks the column
    lo: float | None = None
    hi: float | None = None


BUILDING_COLUMNS: tuple[Column, ...] = (
    Column("building_id", "str", "", "unique building id"),
    Column("use_type", "str", "", "use type; a key of the assumptions table's use.* rows"),
    Column("use_type_assumed", "bool", "", "use type was not in the source data"),
    Column("storeys", "float", "storeys", "storeys above ground", lo=0.0, hi=200.0),
    Column("storeys_assumed", "bool", "", "storeys were not in the source data"),
    Column("footprint_area_m2", "float", "m2", "footprint area, measured in a metric CRS",
           lo=0.0, hi=1e6),
    Column("floor_area_m2", "float", "m2", "gross floor area = footprint x storeys", lo=0.0,
           hi=2e8),
    Column("roof_area_m2", "float", "m2", "roof area available to PV placement (planimetric)",
           lo=0.0, hi=1e6),
    Column("roof_tilt_deg", "float", "deg", "default PV tilt for this roof", lo=0.0, hi=90.0),
    Column("azimuth_deg", "float", "deg",
           "azimuth of the PV-facing roof side, clockwise from north (180 = south); normal to "
           "the footprint's long axis, on the side facing the sun", lo=0.0, hi=360.0),
    Column("pv_potential_kwp", "float", "kWp",
           "roof area x max coverage / module area per kWp", lo=0.0, hi=1e5),
    Column("annual_demand_kwh", "float", "kWh/a", "annual electricity demand", lo=0.0,
           hi=2e8),
    Column("demand_assumed", "bool", "", "demand = floor area x specific demand (assumed)"),
    Column("load_profile", "str", "",
           "the building's own load profile column, e.g. 'meter:<building_id>' for measured "
           "meter data; empty: the standard profile of its use type", default=""),
    Column("pv_profile", "str", "",
           "measured output of the building's existing PV: its column of the district's "
           "pv_profiles, e.g. 'pvmeter:<building_id>'; empty: PV modelled from the weather",
           default=""),
    Column("transformer_id", "str", "", "the transformer this building hangs on"),
    Column("critical", "bool", "",
           "critical facility (hospital, school, fire station, shelter, ...): its critical "
           "load is critical.load_share of its demand; a scenario may mark or unmark it",
           default=False),
    Column("critical_reason", "str", "",
           "why it is critical, e.g. 'amenity=hospital' ('' where it is not)", default=""),
)

TRANSFORMER_COLUMNS: tuple[Column, ...] = (
    Column("transformer_id", "str", "", "unique transformer id"),
    Column("rating_kva", "float", "kVA", "rated apparent power", lo=1.0, hi=1e7),
    Column("std_type", "str", "", "pandapower standard type"),
)

LINE_COLUMNS: tuple[Column, ...] = (
    Column("line_id", "str", "", "unique line id"),
    Column("transformer_id", "str", "", "the transformer feeding this line"),
    Column("kind", "str", "", "'main' (street feeder) or 'service' (building connection)"),
    Column("std_type", "str", "", "pandapower standard line type"),
    Column("length_m", "float", "m", "length, measured in a metric CRS", lo=0.0, hi=5e5),
    Column("from_node", "str", "", "upstream node id"),
    Column("to_node", "str", "", "downstream node id"),
    Column("parallel", "int", "cables", "cables of this type laid in parallel", default=1,
           lo=1, hi=64),
)

WEATHER_COLUMNS: tuple[Column, ...] = (
    Column("ghi", "float", "W/m2", "global horizontal irradiance, hourly mean", lo=-5.0,
           hi=1500.0),
    Column("dni", "float", "W/m2", "direct normal irradiance, hourly mean", lo=-5.0,
           hi=1400.0),
    Column("dhi", "float", "W/m2", "diffuse horizontal irradiance, hourly mean", lo=-5.0,
           hi=1000.0),
    Column("temp_air", "float", "degC", "air temperature at 2 m", lo=-90.0, hi=60.0),
    Column("wind_speed", "float", "m/s", "wind speed at 10 m", lo=0.0, hi=75.0),
)


def _check_columns(frame: pd.DataFrame, columns: tuple[Column, ...], what: str,
                   ids: pd.Series | None = None) -> None:
    missing = [c.name for c in columns if c.name not in frame.columns and c.default is None]
    if missing:
        raise DecentraError(f"{what} lack the columns {', '.join(missing)}")
    for c in columns:
        if c.lo is None or c.name not in frame.columns:
            continue
        v = pd.to_numeric(frame[c.name], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(v) | (v < c.lo) | (v > (c.hi if c.hi is not None else np.inf))
        if bad.any():
            names = (ids.astype(str).to_numpy() if ids is not None
                     else np.array([f"row {i + 1}" for i in range(len(v))]))
            worst = v[bad][0]
            raise DecentraError(f"{what}: {c.name} of {worst:.6g} {c.unit} is impossible "
                                f"(possible: {c.lo:g} to {c.hi:g} {c.unit})",
                                rows=list(names[bad][:10]))


def profile_names(buildings: pd.DataFrame, assumptions: Assumptions) -> np.ndarray:
    """Each building's column of the load profile table: its own (``load_profile``, e.g. a
    measured series ``meter:<building_id>``) where it has one, else its use type's standard
    profile.

    Parameters
    ----------
    buildings:
        The buildings table (``use_type`` and, optionally, ``load_profile``).
    assumptions:
        The assumptions table naming each use type's standard profile.

    Returns
    -------
    numpy.ndarray
        Profile column names (object array, one per building, in row order).
    """
    use = buildings["use_type"].astype(str)
    standard = use.map({u: assumptions.use_text(u, "load_profile")
                        for u in assumptions.use_types()})
    if "load_profile" not in buildings.columns:
        return standard.to_numpy(object)
    own = buildings["load_profile"].fillna("").astype(str)
    return np.where(own.str.len() > 0, own, standard).astype(object)


_OFFSET_NAME = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def utc_offset_name(offset_h: float) -> str:
    """The name of a fixed UTC offset: ``Etc/GMT-1`` (IANA, inverted sign) for whole hours,
    ``UTC+05:30`` for half and quarter hours (kept exactly, never rounded)."""
    minutes = round(float(offset_h) * 60)
    if minutes % 60 == 0:
        whole = minutes // 60
        return "Etc/GMT" if whole == 0 else f"Etc/GMT{-whole:+d}"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def timezone_of(name: str) -> str | dt.tzinfo:
    """What pandas takes as ``tz`` for a site's time zone name (a ``UTC±hh:mm`` name as a
    fixed offset)."""
    m = _OFFSET_NAME.match(str(name))
    if m is None:
        return name
    delta = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return dt.timezone(delta if m.group(1) == "+" else -delta)


@dataclass(frozen=True, eq=False)
class Site:
    """Where the district is: used for solar geometry. ``timezone``: an IANA name or a fixed
    offset ``UTC±hh:mm`` (:func:`utc_offset_name`)."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    timezone: str


@dataclass(frozen=True, eq=False)
class District:
    """Everything needed to evaluate scenarios on one district.

    ``weather`` has 8760 hourly rows (index: hour-start timestamps in ``site.timezone``) with the
    :data:`WEATHER_COLUMNS`; ``load_profiles`` has the same index and one column per standard load
    profile name (and per measured building, ``meter:<id>``), each column summing to 1 (share of
    annual energy in each hour). ``pv_profiles`` (optional, same index): measured output of
    existing PV per kWp [kWh/kWp per hour], one column per building named in its
    ``pv_profile``; the engine uses it instead of the modelled orientation profile.

    Frames are treated as read-only once a District exists: ``content_hash`` is computed at
    construction and keys every cached result.
    """

    name: str
    buildings: gpd.GeoDataFrame
    transformers: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    weather: pd.DataFrame
    load_profiles: pd.DataFrame
    assumptions: Assumptions
    site: Site
    meta: Mapping[str, str] = field(default_factory=dict)
    pv_profiles: pd.DataFrame | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        _check_columns(self.buildings, BUILDING_COLUMNS, "buildings",
                       self.buildings.get("building_id"))
        _check_columns(self.transformers, TRANSFORMER_COLUMNS, "transformers",
                       self.transformers.get("transformer_id"))
        _check_columns(self.lines, LINE_COLUMNS, "lines", self.lines.get("line_id"))
        for attr, columns in (("lines", LINE_COLUMNS), ("buildings", BUILDING_COLUMNS)):
            frame = getattr(self, attr)
            absent = [c for c in columns if c.default is not None and c.name not in frame]
            if absent:               # older files and imports: documented defaults
                frame = frame.copy()
                for c in absent:
                    frame[c.name] = c.default
                object.__setattr__(self, attr, frame)
        _check_columns(self.weather, WEATHER_COLUMNS, "weather")
        if len(self.weather) != HOURS_PER_YEAR or len(self.load_profiles) != HOURS_PER_YEAR:
            raise DecentraError(
                f"weather and load profiles need {HOURS_PER_YEAR} hourly rows, got "
                f"{len(self.weather)} and {len(self.load_profiles)}")
        if len(self.buildings) == 0:
            raise DecentraError("the district has no buildings")
        ids = self.buildings["building_id"]
        if ids.duplicated().any():
            raise DecentraError("building ids are not unique",
                                rows=sorted(ids[ids.duplicated()].astype(str).unique()))
        tids = self.transformers["transformer_id"]
        if tids.duplicated().any():
            raise DecentraError("transformer ids are not unique",
                                rows=sorted(tids[tids.duplicated()].astype(str).unique()))
        orphans = ~self.buildings["transformer_id"].isin(tids)
        if orphans.any():
            raise DecentraError("buildings hang on transformers that do not exist",
                                rows=list(self.buildings.loc[orphans, "building_id"]))
        stray = ~self.lines["transformer_id"].astype(str).isin(tids.astype(str))
        if stray.any():
            raise DecentraError("lines are fed by transformers that do not exist",
                                rows=list(self.lines.loc[stray, "line_id"].astype(str)))
        for name, value, lo, hi in (("latitude", self.site.latitude_deg, -90, 90),
                                    ("longitude", self.site.longitude_deg, -180, 180),
                                    ("altitude", self.site.altitude_m, -430, 8850)):
            if not (math.isfinite(float(value)) and lo <= float(value) <= hi):
                raise DecentraError(f"the site's {name} of {value} is impossible")
        demand = self.buildings["annual_demand_kwh"].to_numpy(float)
        if not np.all(np.isfinite(demand)) or np.any(demand <= 0):
            bad = self.buildings.loc[~(demand > 0), "building_id"]
            raise DecentraError("annual demand must be a positive number of kWh",
                                rows=list(bad))
        used = set(self.buildings["use_type"].unique())
        unknown = sorted(used - set(self.assumptions.use_types()))
        if unknown:
            raise DecentraError(
                f"use types {', '.join(unknown)} have no rows in the assumptions table")
        profiles = {self.assumptions.use_text(u, "load_profile") for u in used}
        profiles |= set(profile_names(self.buildings, self.assumptions))
        missing = sorted(profiles - set(self.load_profiles.columns))
        if missing:
            raise DecentraError(f"load profiles {', '.join(missing)} are missing")
        self._check_pv_profiles()
        object.__setattr__(self, "content_hash", self._hash())

    def _check_pv_profiles(self) -> None:
        named = (self.buildings["pv_profile"].fillna("").astype(str)
                 if "pv_profile" in self.buildings.columns
                 else pd.Series("", index=self.buildings.index))
        has = named.str.len() > 0
        given = self.pv_profiles if self.pv_profiles is not None else pd.DataFrame()
        missing = sorted(set(named[has]) - set(given.columns))
        if missing:
            raise DecentraError("measured PV profiles are missing", rows=missing)
        if len(given.columns) == 0:
            return
        if len(given) != HOURS_PER_YEAR:
            raise DecentraError(f"measured PV profiles need {HOURS_PER_YEAR} hourly rows, got "
                                f"{len(given)}")
        v = given.to_numpy(np.float64)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            raise DecentraError("measured PV profiles must be finite and not negative",
                                rows=list(given.columns[bad.any(axis=0)]))

    def _hash(self) -> str:
        h = hashlib.sha256()
        for frame in (self.buildings, self.transformers, self.lines):
            attrs = pd.DataFrame(frame.drop(columns="geometry"))
            if frame is self.buildings:
                # optional columns at their default everywhere (an older file's "no critical
                # facility") leave the hash as it was: saved scenarios and caches keep it
                unset = [c.name for c in BUILDING_COLUMNS if c.default is not None
                         and c.name in attrs and bool((attrs[c.name] == c.default).all())]
                attrs = attrs.drop(columns=unset)
            h.update(pd.util.hash_pandas_object(attrs, index=False).to_numpy().tobytes())
            h.update(b"|".join(str(c).encode() for c in attrs.columns))
            h.update(b"".join(frame.geometry.to_wkb()))
        # "+ 0.0" turns -0.0 into 0.0: files store both as 0 (a GeoPackage round trip must
        # keep the hash)
        h.update(np.ascontiguousarray(self.weather[[c.name for c in WEATHER_COLUMNS]]
                                      .to_numpy(np.float64) + 0.0).tobytes())
        h.update(np.ascontiguousarray(self.load_profiles.to_numpy(np.float64) + 0.0).tobytes())
        h.update("|".join(self.load_profiles.columns).encode())
        if self.pv_profiles is not None and len(self.pv_profiles.columns):
            h.update(b"|pv_profiles|")
            h.update(np.ascontiguousarray(self.pv_profiles.to_numpy(np.float64) + 0.0).tobytes())
            h.update("|".join(self.pv_profiles.columns).encode())
        h.update(repr(self.assumptions.records()).encode())
        h.update(repr((self.site.latitude_deg, self.site.longitude_deg, self.site.altitude_m,
                       self.site.timezone)).encode())
        # what the tables do not show but results depend on: an imported pandapower
        # network's own parameters (taps, ratings, source voltage), the sources
        for key in sorted(self.meta):
            h.update(f"|{key}=".encode())
            h.update(str(self.meta[key]).encode())
        return h.hexdigest()[:32]

    # ---- convenience ---------------------------------------------------------------------
    @property
    def n_buildings(self) -> int:
        return len(self.buildings)

    @property
    def building_ids(self) -> pd.Index:
        return pd.Index(self.buildings["building_id"])

    @property
    def is_synthetic(self) -> bool:
        return str(self.meta.get("synthetic", "false")).lower() == "true"

    @property
    def lineage(self) -> tuple[str, ...]:
        """This district's content hash, then those of earlier versions of the same district
        (meta ``supersedes``, ';'-separated; e.g. the default district rebuilt with a newer
        demand model): scenarios saved on any of them belong to this one."""
        older = [h.strip() for h in str(self.meta.get("supersedes", "")).split(";")
                 if h.strip() and h.strip() != self.content_hash]
        return (self.content_hash, *dict.fromkeys(older))

    def describe(self) -> dict[str, Any]:
        b = self.buildings
        return {
            "name": self.name,
            "buildings": len(b),
            "transformers": len(self.transformers),
            "lines": len(self.lines),
            "footprint_area_m2": float(b["footprint_area_m2"].sum()),
            "floor_area_m2": float(b["floor_area_m2"].sum()),
            "annual_demand_kwh": float(b["annual_demand_kwh"].sum()),
            "pv_potential_kwp": float(b["pv_potential_kwp"].sum()),
            "synthetic": self.is_synthetic,
        }
