"""Bring your own city: a District from the files a city has.

    result = import_district("footprints.geojson")                    # footprints alone
    result = import_district("city.osm.pbf", weather="site.epw")      # OpenStreetMap extract
    result = import_district("b.gpkg", layer="buildings", network="grid.json")  # pandapower
    result.district, result.report.summary_lines(), result.scenario

What a city lacks is filled in and said so in the report: attributes from the assumptions table
(flagged ``*_assumed``), feeders synthesized along the streets (from the upload, the OSM extract,
or, failing both, the shortest lines joining the buildings), weather from the nearest bundled DWD
test reference year. Every problem with a file is one :class:`DecentraError` naming the file, the
problem and the first offending rows; nothing is returned or written half.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import District, Site
from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs
from dashboard.domain.scenario import BatteryPlacement, PvPlacement, Scenario
from dashboard.io import attributes as attrs
from dashboard.io.formats import (
    Limits,
    check_geojson_text,
    check_size,
    list_layers,
    read_layer,
    safe_unzip,
    sniff,
)
from dashboard.io.plausibility import check_values

__all__ = ["FEEDER_KINDS", "ImportReport", "ImportResult", "Limits", "feeder_file_kind",
           "import_district", "source_layers"]

# Czech public holidays apply inside the Czech Republic's bounding box only.
CZ_BBOX = (12.09, 48.55, 18.87, 51.06)
MAX_WEATHER_DISTANCE_KM = 1500.0     # bundled weather is used as a stand-in up to this far
FAR_WEATHER_KM = 200.0               # a weather file further than this gets a warning
FEEDER_LAYERS = {"transformers": ("transformers", "transformer", "substations", "substation"),
                 "lines": ("lines", "feeders", "cables", "lv_lines"),
                 "streets": ("streets", "roads", "street", "road")}
RATING_ALIASES = ("rating_kva", "sn_kva", "kva", "rating", "capacity_kva", "power_kva")
TRANSFORMER_ID_ALIASES = ("transformer_id", "id", "name", "ref", "station_id")


# ---- report -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportReport:
    """What was read, what was assumed, and what the user should know before accepting."""

    name: str
    source: str
    buildings: int
    footprint_area_m2: float
    annual_demand_kwh: float
    pv_potential_kwp: float
    transformers: int
    lines: int
    mapping: Mapping[str, str | None]       # our attribute -> the source column (None: absent)
    assumed: Mapping[str, int]              # our attribute -> buildings where it was assumed
    notes: tuple[str, ...]                  # plain sentences: repairs, drops, assumptions
    network_source: str
    weather_source: str
    placements: int = 0
    extent_km: float = 0.0

    def summary_lines(self) -> list[str]:
        n = self.buildings
        out = [f"{n:,} buildings, {self.footprint_area_m2 / 1e4:,.1f} ha of footprint, "
               f"{self.annual_demand_kwh / 1e6:,.2f} GWh/a demand, "
               f"{self.pv_potential_kwp / 1e3:,.1f} MWp rooftop PV potential "
               f"(district {self.extent_km:,.1f} km across)",
               f"{self.transformers:,} transformers and {self.lines:,} lines: "
               f"{self.network_source}",
               f"Weather: {self.weather_source}"]
        for key, count in self.assumed.items():
            if count:
                out.append(f"{key} assumed for {count:,} of {n:,} buildings "
                           f"({100 * count / n:.0f} %)")
        if self.placements:
            out.append(f"{self.placements:,} placements read into a scenario")
        return out + list(self.notes)

    def mapping_rows(self) -> list[dict[str, str]]:
        """The attribute mapping as table rows: ours, from which column, how many assumed."""
        return [{"attribute": key, "column": col or "(not in the file)",
                 "assumed": f"{self.assumed.get(key, 0):,}" if key in self.assumed else ""}
                for key, col in self.mapping.items()]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "buildings": self.buildings,
                "footprint_area_m2": self.footprint_area_m2,
                "annual_demand_kwh": self.annual_demand_kwh,
                "pv_potential_kwp": self.pv_potential_kwp,
                "transformers": self.transformers, "lines": self.lines,
                "mapping": dict(self.mapping), "assumed": dict(self.assumed),
                "notes": list(self.notes), "network_source": self.network_source,
                "weather_source": self.weather_source, "placements": self.placements,
                "extent_km": self.extent_km}


@dataclass(frozen=True, eq=False)
class ImportResult:
    district: District
    report: ImportReport
    scenario: Scenario | None = None   # placements found in the file (Decentra exports)


@dataclass
class _Notes:
    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.items.append(text)


# ---- reading ------------------------------------------------------------------------------
@dataclass
class _Source:
    frame: gpd.GeoDataFrame
    label: str
    kind: str                                   # geojson, gpkg, shapefile, pbf
    siblings: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    id_column: str | None = None                # forced id column (pbf)


def source_layers(path: str | Path, limits: Limits | None = None) -> list[str]:
    """The vector layers of a buildings file (several only for GeoPackages), for choosing one
    in the UI. Checks what can be checked before the import: size, format, archive safety
    (raises DecentraError)."""
    path = Path(path)
    limits = limits or Limits()
    with _vector_file(path, limits) as (inner, kind):
        if kind != "gpkg":
            return []
        return [name for name, geom in list_layers(inner) if geom is not None]


FEEDER_KINDS = ("network", "transformers", "streets")


def feeder_file_kind(path: str | Path, limits: Limits | None = None) -> str:
    """What a grid file holds, for an upload that did not say: ``"network"`` (a pandapower
    network saved with ``pandapower.to_json``), ``"transformers"`` (points, or a GeoPackage
    with a transformers layer) or ``"streets"`` (lines). Raises DecentraError otherwise."""
    path = Path(path)
    limits = limits or Limits()
    check_size(path, limits)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if b"pandapowerNet" in head:
        return "network"
    kind = sniff(path)
    if kind == "gpkg":
        names = {n for n, g in list_layers(path) if g is not None}
        if names & set(FEEDER_LAYERS["transformers"]):
            return "transformers"
        if names & set(FEEDER_LAYERS["streets"]) and not names & set(FEEDER_LAYERS["lines"]):
            return "streets"
    if kind == "pbf":
        raise DecentraError("an OpenStreetMap extract holds buildings and streets: upload it "
                            "as the buildings file", source=path.name)
    src = _read_source(path, None, "transformers", limits)
    types = set(src.frame.geometry.dropna().geom_type)
    if types and types <= {"Point", "MultiPoint", "Polygon", "MultiPolygon"}:
        return "transformers"
    if types and types <= {"LineString", "MultiLineString"}:
        return "streets"
    raise DecentraError("cannot tell what the grid file holds: expected a pandapower network, "
                        "transformer points or street lines"
                        + (f" (found {', '.join(sorted(types))})" if types else ""),
                        source=path.name)


def _choose_layer(path: Path, layer: str | None, role: str) -> str:
    layers = [(n, g) for n, g in list_layers(path)]
    spatial = [n for n, g in layers if g is not None]
    if layer is not None:
        if layer not in [n for n, _ in layers]:
            raise DecentraError(f"the GeoPackage has no layer '{layer}' (layers: "
                                f"{', '.join(n for n, _ in layers) or 'none'})",
                                source=path.name)
        return layer
    if not spatial:
        raise DecentraError("the GeoPackage has no layer with geometry", source=path.name)
    if len(spatial) == 1:
        return spatial[0]
    for candidate in (role, *FEEDER_LAYERS.get(role, ())):
        if candidate in spatial:
            return candidate
    raise DecentraError(f"the GeoPackage has {len(spatial)} layers "
                        f"({', '.join(spatial[:8])}); choose the {role} layer",
                        source=path.name)


@contextlib.contextmanager
def _vector_file(path: Path, limits: Limits) -> Iterator[tuple[Path, str]]:
    """The readable vector file behind ``path`` (unzipped if needed) and its kind."""
    check_size(path, limits)
    kind = sniff(path)
    if kind == "zip":
        with safe_unzip(path, limits) as root:
            inner = [p for p in root.rglob("*") if p.is_file()]
            shps = sorted(p for p in inner if p.suffix.lower() == ".shp")
            others = sorted(p for p in inner if p.suffix.lower() in (".geojson", ".json",
                                                                      ".gpkg"))
            if len(shps) > 1:
                raise DecentraError(f"the zip holds {len(shps)} Shapefiles "
                                    f"({', '.join(p.name for p in shps[:5])}); zip one",
                                    source=path.name)
            if shps:
                shp = shps[0]
                missing = [ext for ext in (".shx", ".dbf")
                           if not any(q.suffix.lower() == ext and q.stem == shp.stem
                                      for q in inner)]
                if missing:
                    raise DecentraError(f"the Shapefile '{shp.name}' lacks its "
                                        f"{' and '.join(missing)} file", source=path.name)
                yield shp, "shapefile"
                return
            if len(others) == 1:
                yield others[0], sniff(others[0])
                return
            raise DecentraError("the zip holds no Shapefile (.shp with .shx and .dbf), "
                                "GeoJSON or GeoPackage", source=path.name)
        return
    if kind == "unknown":
        suffix = path.suffix.lower()
        hint = {".shp": "a Shapefile comes with .shx, .dbf and .prj files: zip them together "
                        "and upload the zip",
                ".osm": "use an OpenStreetMap .osm.pbf extract (e.g. from Geofabrik)",
                ".kml": "export the layer as GeoJSON or GeoPackage",
                ".csv": "a table needs geometry: export it as GeoJSON or GeoPackage"}
        raise DecentraError("not a recognised format (expected GeoJSON, GeoPackage, zipped "
                            "Shapefile or OpenStreetMap .osm.pbf)"
                            + (f"; {hint[suffix]}" if suffix in hint else ""),
                            source=path.name)
    yield path, kind


def _read_source(path: Path, layer: str | None, role: str, limits: Limits,
                 siblings: bool = False) -> _Source:
    label = path.name
    with _vector_file(path, limits) as (inner, kind):
        if kind == "pbf":
            return _read_pbf(inner, label)
        if kind == "geojson":
            check_geojson_text(inner) if inner == path else _check_inner_json(inner, label)
            return _Source(read_layer(inner, label=label), label, kind)
        if kind == "gpkg":
            chosen = _choose_layer(inner, layer, role)
            frame = read_layer(inner, chosen, label=f"{label} (layer {chosen})")
            found: dict[str, gpd.GeoDataFrame] = {}
            if siblings:
                names = {n for n, g in list_layers(inner) if g is not None} - {chosen}
                for key, aliases in FEEDER_LAYERS.items():
                    hit = next((a for a in aliases if a in names), None)
                    if hit is not None:
                        found[key] = read_layer(inner, hit, label=f"{label} (layer {hit})")
            return _Source(frame, f"{label} (layer {chosen})" if layer or siblings else label,
                           kind, found)
        return _Source(read_layer(inner, label=label), label, kind)


def _check_inner_json(inner: Path, label: str) -> None:
    try:
        check_geojson_text(inner)
    except DecentraError as err:
        raise DecentraError(err.message, source=f"{label}/{inner.name}") from None


def _read_pbf(path: Path, label: str) -> _Source:
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path))
        frame = osm.get_buildings()
    except Exception as err:  # pyrosm / protobuf errors on damaged extracts
        raise DecentraError(f"the OpenStreetMap extract cannot be read; is it truncated? "
                            f"({type(err).__name__})", source=label) from None
    if frame is None or len(frame) == 0:
        raise DecentraError("the OpenStreetMap extract has no buildings", source=label)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=frame.crs or 4326)
    kind = frame["osm_type"].astype(str).str[0] if "osm_type" in frame else "w"
    frame["osm_ref"] = kind + frame["id"].astype("int64").astype(str)
    for col in ("building:height", "height"):
        if col in frame.columns and "height_m" not in frame.columns:
            frame = frame.rename(columns={col: "height_m"})
    if "tags" in frame.columns:   # pyrosm keeps rarer keys (height) in a JSON-ish tags column
        frame = frame.drop(columns="tags")
    siblings: dict[str, gpd.GeoDataFrame] = {}
    try:
        streets = osm.get_network("driving")
        if streets is None or len(streets) == 0:
            streets = osm.get_network("all")
    except Exception:  # streets are optional: feeders are synthesized otherwise
        streets = None
    if streets is not None and len(streets):
        siblings["streets"] = gpd.GeoDataFrame(geometry=streets.geometry.values,
                                               crs=streets.crs or 4326)
    return _Source(frame, label, "pbf", siblings, id_column="osm_ref")


# ---- geometry -----------------------------------------------------------------------------
def _row_labels(mask: np.ndarray, frame: pd.DataFrame, ids: list[str] | None = None
                ) -> list[str]:
    idx = np.flatnonzero(mask)[:10]
    if ids is not None:
        return [ids[i] for i in idx]
    return [f"feature {i + 1}" for i in idx]


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection":
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon",
                                                                        "MultiPolygon")]
        if not parts:
            return None
        merged = shapely.union_all(parts)
        return merged if merged.geom_type in ("Polygon", "MultiPolygon") else None
    return None


def _footprints(frame: gpd.GeoDataFrame, label: str, limits: Limits, notes: _Notes
                ) -> tuple[gpd.GeoDataFrame, float]:
    """Polygons in EPSG:4326, repaired, plausibly placed; the district's extent [km]."""
    if len(frame) == 0:
        raise DecentraError("the layer is empty (no features)", source=label)
    if len(frame) > limits.max_buildings:
        raise DecentraError(f"{len(frame):,} features; at most {limits.max_buildings:,} "
                            "buildings are accepted per district", source=label)
    geoms = shapely.force_2d(np.asarray(frame.geometry.values, dtype=object))
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.all():
        raise DecentraError("no feature has a geometry", source=label)
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, (3, 6, 7)) & ~missing       # Polygon, MultiPolygon, collection
    if not polygonal.any():
        kinds = pd.Series(shapely.get_type_id(geoms[~missing])).map(
            {0: "points", 1: "lines", 2: "rings", 4: "points", 5: "lines"}).fillna("shapes")
        what = kinds.value_counts().index[0]
        raise DecentraError(f"the layer holds {what}, but building footprints must be "
                            "polygons", source=label, rows=_row_labels(~missing, frame))
    if missing.any():
        notes.add(f"{int(missing.sum()):,} features without geometry were skipped")
    other = ~missing & ~polygonal
    if other.any():
        notes.add(f"{int(other.sum()):,} features that are not polygons (points or lines) "
                  "were skipped")
    keep = polygonal.copy()
    frame = frame.loc[keep].copy()
    geoms = geoms[keep]

    crs = frame.crs
    coords = shapely.get_coordinates(geoms)
    if not np.isfinite(coords).all():
        raise DecentraError("some coordinates are not numbers (NaN or infinite)",
                            source=label)
    lonlat_like = (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    if crs is None:
        if not lonlat_like:
            x, y = coords[0]
            raise DecentraError(f"the file has no coordinate reference system and the "
                                f"coordinates (e.g. {x:,.1f}, {y:,.1f}) are not longitude/"
                                "latitude; add the .prj file or save with a CRS",
                                source=label)
        notes.add("The file names no coordinate reference system: WGS 84 longitude/latitude "
                  "(EPSG:4326) was assumed")
        crs = "EPSG:4326"
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        repaired = np.array([_polygonal(g) for g in shapely.make_valid(geoms[invalid])],
                            dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = repaired
        lost = int(sum(g is None for g in repaired))
        notes.add(f"{int(invalid.sum()):,} invalid or self-intersecting polygons were "
                  "repaired (make_valid)" + (f"; {lost:,} had no area left and were skipped"
                                             if lost else ""))
    collections = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if len(collections):
        geoms = geoms.copy()
        geoms[collections] = [_polygonal(g) for g in geoms[collections]]
    ok = np.array([g is not None and not g.is_empty for g in geoms])
    if not ok.any():
        raise DecentraError("no usable polygon is left after repairing the geometries",
                            source=label)
    try:
        out = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name).loc[ok],
                               geometry=list(geoms[ok]), crs=crs).to_crs(4326)
    except Exception as err:  # pyproj errors: unknown or broken CRS
        raise DecentraError(f"the coordinates cannot be transformed to longitude/latitude "
                            f"({str(err)[:160]})", source=label) from None
    out.index = np.flatnonzero(keep)[ok]   # feature numbers of the source, for messages
    ll = shapely.get_coordinates(out.geometry.values)
    if not np.isfinite(ll).all() or (np.abs(ll[:, 1]) > 85).any() \
            or (np.abs(ll[:, 0]) > 180).any():
        raise DecentraError("coordinates fall outside the Earth (|latitude| > 85 deg) after "
                            "reprojection: is the CRS right?", source=label)
    centres = shapely.centroid(out.geometry.values)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    near_null = (np.abs(cx) < 0.01) & (np.abs(cy) < 0.01)
    if near_null.any():
        raise DecentraError("buildings at longitude 0, latitude 0 ('null island'): "
                            "coordinates are missing or the CRS is wrong",
                            source=label, rows=[f"feature {i + 1}"
                                                for i in out.index[near_null][:10]])
    # extent in km, measured around the median centre (robust to a few strays)
    lat0, lon0 = float(np.median(cy)), float(np.median(cx))
    dx_km = (cx - lon0) * 111.32 * math.cos(math.radians(lat0))
    dy_km = (cy - lat0) * 110.57
    dist_km = np.hypot(dx_km, dy_km)
    extent_km = float(max(np.ptp(dx_km), np.ptp(dy_km)))
    if extent_km > limits.max_extent_km:
        far = dist_km > limits.max_extent_km / 2
        rows = [f"feature {i + 1}" for i in out.index[far][:10]] if far.any() else []
        raise DecentraError(f"the buildings spread over {extent_km:,.0f} km; a district is at "
                            f"most {limits.max_extent_km:,.0f} km across. Are some coordinates "
                            "wrong, or is the CRS wrong?", source=label, rows=rows)
    area_m2 = out.to_crs(metric_crs(out)).geometry.area.to_numpy(float)
    tiny = area_m2 < limits.min_footprint_m2
    if tiny.all():
        raise DecentraError(f"every footprint is smaller than {limits.min_footprint_m2:g} m2: "
                            "are the coordinates in the units the CRS says?", source=label)
    if tiny.any():
        notes.add(f"{int(tiny.sum()):,} slivers smaller than {limits.min_footprint_m2:g} m2 "
                  "were skipped")
        out = out.loc[~tiny]
    return out, max(extent_km, 0.01)


# ---- attributes ---------------------------------------------------------------------------
def _attributes(frame: gpd.GeoDataFrame, label: str, id_column: str | None, notes: _Notes
                ) -> tuple[gpd.GeoDataFrame, dict[str, str | None]]:
    """Canonical input columns for :func:`building_attributes` and the mapping used."""
    mapping = attrs.find_columns(list(frame.columns))
    if id_column is not None:
        mapping["building_id"] = id_column
    try:
        ids = attrs.ids_for(frame, mapping["building_id"])
        out = gpd.GeoDataFrame({"building_id": ids}, geometry=frame.geometry.values,
                               crs=frame.crs, index=frame.index)
        values: dict[str, pd.Series] = {}
        for key in attrs.NUMERIC:
            col = mapping.get(key)
            if col is not None:
                values[key] = attrs.numeric_column(frame, col, key, ids)
                known = values[key].notna().to_numpy()
                for warning in check_values(key, values[key].to_numpy(float)[known], label,
                                            col, [i for i, k in zip(ids, known, strict=True)
                                                  if k]):
                    notes.add(warning)
        use, unknown = attrs.use_types(frame, mapping["use_type"])
    except DecentraError as err:
        rows = [f"feature {r + 1}" if isinstance(r, (int, np.integer)) else r
                for r in err.rows]
        raise DecentraError(err.message, source=label, rows=rows) from None
    if unknown:
        notes.add(f"{unknown:,} buildings have a use type we do not know (column "
                  f"'{mapping['use_type']}'); their use was assumed from the footprint size")
    out["use_type"] = use.to_numpy(object)
    for key in ("storeys", "height_m", "roof_area_m2", "annual_demand_kwh"):
        if key in values:
            v = values[key].to_numpy(float)
            if key != "roof_area_m2":
                zero = v == 0
                if zero.any():
                    notes.add(f"{int(zero.sum()):,} zero values of '{mapping[key]}' were "
                              "treated as unknown")
                    v = np.where(zero, np.nan, v)
            out[key] = v
    return out, mapping


def _placements(frame: gpd.GeoDataFrame, ids: list[str], label: str, name: str
                ) -> Scenario | None:
    """A scenario from Decentra's own export columns (pv_kwp, battery_kwh, ...)."""
    cols = [c for c in attrs.PLACEMENT_COLUMNS if c in frame.columns]
    if "pv_kwp" not in cols and "battery_kwh" not in cols:
        return None
    num = {}
    for c in cols:
        num[c] = attrs.numeric_column(frame, c, c, ids).fillna(0.0).to_numpy(float)
    pv, bat = [], []
    try:
        for i, bid in enumerate(ids):
            kwp = num.get("pv_kwp", np.zeros(1))[i] if "pv_kwp" in num else 0.0
            if kwp > 0:
                tilt = num["pv_tilt_deg"][i] if "pv_tilt_deg" in num else 30.0
                az = num["pv_azimuth_deg"][i] if "pv_azimuth_deg" in num else 180.0
                pv.append(PvPlacement(bid, float(kwp), float(tilt), float(az)))
            kwh = num["battery_kwh"][i] if "battery_kwh" in num else 0.0
            if kwh > 0:
                kw = num["battery_kw"][i] if "battery_kw" in num else kwh / 2
                bat.append(BatteryPlacement(bid, float(kwh), float(kw)))
    except DecentraError as err:
        raise DecentraError(err.message, source=label) from None
    if not pv and not bat:
        return None
    scenario_name = name
    if "scenario" in frame.columns and frame["scenario"].notna().any():
        scenario_name = str(frame["scenario"].dropna().iloc[0])[:200] or name
    return Scenario(name=scenario_name, pv=tuple(pv), batteries=tuple(bat))


# ---- weather ------------------------------------------------------------------------------
def _num(meta: Mapping[str, object], key: str, default: float | None = None) -> float:
    value = meta.get(key, default)
    if value is None:
        raise DecentraError(f"the weather file does not give its {key.replace('_', ' ')}")
    try:
        return float(str(value))
    except ValueError:
        raise DecentraError(f"the weather file's {key.replace('_', ' ')} is not a number "
                            f"({value!r})") from None


@lru_cache(maxsize=1)
def _try_stations() -> tuple[tuple[int, str, float, float, float], ...]:
    from dashboard.io.weather import _parse_try_meta, bundled_try_path

    out = []
    for region in range(1, 16):
        path = bundled_try_path(region)
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [next(fh) for _ in range(40)]
        meta = _parse_try_meta(head, path)
        out.append((region, str(meta.get("station", "?")), _num(meta, "latitude_deg"),
                    _num(meta, "longitude_deg"), _num(meta, "altitude_m", 0.0)))
    return tuple(out)


@lru_cache(maxsize=4)
def _try_weather(region: int, year: int) -> pd.DataFrame:
    """A bundled DWD TRY year on its own clock (UTC+1), direct horizontal split into DNI with
    its station's sun."""
    from dashboard.energy.weather import hourly_index, weather_from_horizontal
    from dashboard.io.weather import bundled_try_path, read_dwd_try, timezone_name

    _, _, slat, slon, salt = _try_stations()[region - 1]
    raw, _ = read_dwd_try(bundled_try_path(region))
    tz = timezone_name(1.0)
    return weather_from_horizontal(hourly_index(year, tz), Site(slat, slon, salt, tz),
                                   raw["bhi"].to_numpy(), raw["dhi"].to_numpy(),
                                   raw["temp_air"].to_numpy(), raw["wind_speed"].to_numpy())


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _weather(spec: str | Path | None, lat: float, lon: float, year: int, notes: _Notes,
             cache_dir: Path | None, limits: Limits) -> tuple[pd.DataFrame, Site, str]:
    from dashboard.energy.weather import hourly_index, weather_from_horizontal
    from dashboard.io.weather import (
        fetch_pvgis,
        read_weather_file,
        timezone_name,
    )

    if spec is None:
        lowland = [s for s in _try_stations() if s[4] < 1000.0]   # not the mountain region 11
        region, station, slat, slon, salt = min(
            lowland, key=lambda s: _distance_km(lat, lon, s[2], s[3]))
        dist = _distance_km(lat, lon, slat, slon)
        if dist > MAX_WEATHER_DISTANCE_KM:
            raise DecentraError(
                f"no weather given, and the nearest bundled weather (DWD TRY region {region}, "
                f"{station}) is {dist:,.0f} km away: upload an EPW, TMY3 or DWD TRY file for "
                "this site, or fetch PVGIS when online", source="weather")
        tz = timezone_name(1.0)
        weather = _try_weather(region, year).copy()
        source = (f"assumed: DWD TRY2010 region {region} ({station}), {dist:,.0f} km away, "
                  "© Deutscher Wetterdienst")
        notes.add(f"No weather file given: weather assumed from DWD TRY2010 region {region} "
                  f"({station}, {dist:,.0f} km away)"
                  + ("; upload a weather file for this site" if dist > FAR_WEATHER_KM else ""))
        return weather, Site(lat, lon, salt, tz), source
    if str(spec).lower() == "pvgis":
        from dashboard.cache import cache_dir as private_cache_dir

        rows, meta = fetch_pvgis(lat, lon, cache_dir / "pvgis" if cache_dir else
                                 private_cache_dir("pvgis"))
    else:
        path = Path(spec)
        if not path.exists():
            raise DecentraError("file not found", source=str(path))
        check_size(path, limits)
        rows, meta = read_weather_file(path)
    for warning in list(meta.get("warnings") or ()):          # type: ignore[call-overload]
        notes.add(str(warning))
    tz = timezone_name(_num(meta, "utc_offset_h", 1.0))
    index = hourly_index(year, tz)
    altitude = _num(meta, "altitude_m", 0.0)
    site = Site(lat, lon, altitude, tz)
    if "bhi" in rows.columns:   # DWD TRY: split direct horizontal with the station's sun
        weather = weather_from_horizontal(index, Site(_num(meta, "latitude_deg", lat),
                                                      _num(meta, "longitude_deg", lon),
                                                      altitude, tz),
                                          rows["bhi"].to_numpy(), rows["dhi"].to_numpy(),
                                          rows["temp_air"].to_numpy(),
                                          rows["wind_speed"].to_numpy())
    else:
        weather = rows.set_index(index)
    if "latitude_deg" in meta and "longitude_deg" in meta:
        dist = _distance_km(lat, lon, _num(meta, "latitude_deg"), _num(meta, "longitude_deg"))
        if dist > MAX_WEATHER_DISTANCE_KM:
            raise DecentraError(f"the weather is of a site {dist:,.0f} km from the district "
                                "(its latitude and longitude): use weather of this site",
                                source=str(meta.get("source", "weather")))
        if dist > FAR_WEATHER_KM:
            notes.add(f"The weather file's site is {dist:,.0f} km from the district")
    return weather, site, str(meta.get("source", spec))


# ---- network ------------------------------------------------------------------------------
FAR_TRANSFORMER_KM = 5.0          # a transformer further from every building: a warning
MAX_TRANSFORMER_KM = 50.0         # further: not this district's network


def check_transformer_distance(buildings: gpd.GeoDataFrame, transformers: gpd.GeoDataFrame,
                               label: str, notes: _Notes) -> None:
    """Each transformer's distance to its nearest building: a network of another place (or
    of swapped coordinates) is refused naming the transformer."""
    from scipy.spatial import cKDTree

    crs = metric_crs(buildings)
    b = buildings.geometry.to_crs(crs).representative_point()
    t = transformers.geometry.to_crs(crs)
    ok = t.notna() & ~t.is_empty
    if not ok.any() or len(b) == 0:
        return
    tree = cKDTree(np.column_stack([b.x.to_numpy(), b.y.to_numpy()]))
    pts = np.column_stack([t[ok].x.to_numpy(), t[ok].y.to_numpy()])
    dist_km = tree.query(pts)[0] / 1000.0
    ids = transformers.loc[ok, "transformer_id"].astype(str).to_numpy()
    worst = int(np.argmax(dist_km))
    if dist_km[worst] > MAX_TRANSFORMER_KM:
        far = [f"{ids[i]} ({dist_km[i]:,.0f} km)" for i in np.argsort(-dist_km)[:5]
               if dist_km[i] > MAX_TRANSFORMER_KM]
        raise DecentraError(f"transformers are up to {dist_km[worst]:,.0f} km from the nearest "
                            "building: the network is of another place (or its coordinates "
                            "are swapped)", source=label, rows=far)
    if dist_km[worst] > FAR_TRANSFORMER_KM:
        notes.add(f"{label}: {int((dist_km > FAR_TRANSFORMER_KM).sum())} transformers are more "
                  f"than {FAR_TRANSFORMER_KM:g} km from every building (up to "
                  f"{dist_km[worst]:,.1f} km); please check the network")


def _transformer_points(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if len(frame) == 0:
        raise DecentraError("the transformer layer is empty", source=label)
    if frame.crs is None:
        raise DecentraError("the transformer layer has no coordinate reference system",
                            source=label)
    geoms = frame.geometry
    if geoms.isna().any() or geoms.is_empty.any():
        raise DecentraError("some transformers have no geometry", source=label,
                            rows=[f"feature {i + 1}" for i in
                                  np.flatnonzero((geoms.isna() | geoms.is_empty).to_numpy())[:10]])
    pts = frame.to_crs(4326)
    pts = pts.set_geometry(pts.geometry.representative_point())
    lower = {c.lower(): c for c in frame.columns if c != frame.geometry.name}
    id_col = next((lower[a] for a in TRANSFORMER_ID_ALIASES if a in lower), None)
    try:
        ids = attrs.ids_for(pd.DataFrame(frame), id_col)
    except DecentraError as err:
        raise DecentraError(err.message.replace("building", "transformer"), source=label,
                            rows=err.rows) from None
    if id_col is None:
        ids = [f"T{i + 1:02d}" for i in range(len(frame))]
    rating = np.full(len(frame), np.nan)
    rate_col = next((lower[a] for a in RATING_ALIASES if a in lower), None)
    if rate_col is not None:
        rating = attrs.numeric_column(frame, rate_col, "rating_kva", ids).to_numpy(float)
    elif "sn_mva" in lower:
        rating = attrs.numeric_column(frame, lower["sn_mva"], "sn_mva", ids).to_numpy(
            float) * 1000
    return gpd.GeoDataFrame({"transformer_id": ids, "rating_kva": rating,
                             "std_type": frame[lower["std_type"]].astype(str).to_numpy()
                             if "std_type" in lower else ""},
                            geometry=pts.geometry.values, crs=4326)


def _lines(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise DecentraError("the line layer has no coordinate reference system", source=label)
    geoms = frame.geometry
    ok = geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(["LineString",
                                                                  "MultiLineString"])
    if not ok.any():
        raise DecentraError("the line layer holds no lines", source=label)
    out = frame.loc[ok].to_crs(4326)
    return gpd.GeoDataFrame(out.drop(columns=out.geometry.name),
                            geometry=shapely.force_2d(out.geometry.values), crs=4326)


# ---- the import ---------------------------------------------------------------------------
def import_district(buildings: str | Path, *, layer: str | None = None,
                    streets: str | Path | None = None, network: str | Path | None = None,
                    transformers: str | Path | None = None,
                    weather: str | Path | None = None, name: str | None = None,
                    assumptions: Assumptions | None = None, limits: Limits | None = None,
                    cache_dir: Path | None = None) -> ImportResult:
    """A complete District from a city's files.

    Parameters
    ----------
    buildings:
        Footprints: GeoJSON, GeoPackage (``layer`` chooses one of several), zipped Shapefile,
        or an OpenStreetMap ``.osm.pbf`` extract (its streets are used for the feeders).
    streets:
        Street centre lines (any of the same formats) to lay synthesized feeders along.
    network:
        A pandapower network (``pandapower.to_json``) with bus geodata: its transformers and
        lines become the district's, buildings join its loads by id or nearest load bus.
    transformers:
        Transformer points (any vector format; ``rating_kva`` optional); buildings join the
        nearest. A GeoPackage's ``lines`` layer is kept as the feeders.
    weather:
        An EPW, TMY3 or DWD TRY file, ``"pvgis"`` to download a typical year for the
        district's location (cached), or None for the nearest bundled DWD test reference year.

    Raises
    ------
    DecentraError
        For every problem with the input; nothing else escapes for bad files.
    """
    from dashboard.energy.load import bdew_profiles
    from dashboard.io.assumptions import read_assumptions
    from dashboard.synthesis.buildings import building_attributes
    from dashboard.synthesis.feeders import (
        network_from_transformers,
        proxy_streets,
        synthesize_network,
    )

    limits = limits or Limits()
    path = Path(buildings)
    notes = _Notes()
    if not path.exists():
        raise DecentraError("file not found", source=str(path))
    check_size(path, limits)
    if sniff_district(path):
        return _existing_district(path)
    src = _read_source(path, layer, "buildings", limits, siblings=True)
    frame, extent_km = _footprints(src.frame, src.label, limits, notes)
    canon, mapping = _attributes(frame, src.label, src.id_column, notes)
    ids = canon["building_id"].tolist()
    district_name = (name or _default_name(path)).strip()[:200] or "Imported district"
    scenario = _placements(frame, ids, src.label, f"{district_name}: imported placements")

    a = assumptions or read_assumptions()
    centre = shapely.centroid(shapely.union_all(
        shapely.centroid(canon.geometry.values)))
    lat, lon = round(float(centre.y), 5), round(float(centre.x), 5)
    year = int(a.number("time.reference_year"))
    weather_df, site, weather_source = _weather(weather, lat, lon, year, notes, cache_dir,
                                                limits)
    in_cz = CZ_BBOX[0] <= lon <= CZ_BBOX[2] and CZ_BBOX[1] <= lat <= CZ_BBOX[3]
    holidays = "CZ" if in_cz else ""
    if not in_cz:
        notes.add("Public holidays: none applied (only the Czech calendar is built in); "
                  "load profiles treat holidays as working days")
    a = a.with_values(time__timezone=site.timezone, time__holidays=holidays)
    names = tuple(dict.fromkeys(a.use_text(u, "load_profile") for u in a.use_types()))
    try:
        profiles = bdew_profiles(year, site.timezone, names, holidays=holidays or None)
        table = building_attributes(canon, a, id_column="building_id")
    except DecentraError as err:
        raise DecentraError(err.message, source=src.label, rows=err.rows) from None

    assumed = {"use_type": int(table["use_type_assumed"].sum()),
               "storeys": int(table["storeys_assumed"].sum()),
               "annual_demand_kwh": int(table["demand_assumed"].sum()),
               "roof_area_m2": int(canon["roof_area_m2"].isna().sum())
               if "roof_area_m2" in canon else len(canon)}
    if mapping.get("footprint_area_m2"):
        notes.add(f"Footprint areas are measured from the geometry; the column "
                  f"'{mapping['footprint_area_m2']}' was checked but not used")

    # feeders and transformers
    street_frame: gpd.GeoDataFrame | None = None
    if network is not None:
        from dashboard.io.pandapower_net import assign_buildings, read_pandapower

        net_path = Path(network)
        if not net_path.exists():
            raise DecentraError("file not found", source=str(net_path))
        check_size(net_path, limits)
        pp_net = read_pandapower(net_path)
        for warning in pp_net.warnings:
            notes.add(warning)
        check_transformer_distance(table, pp_net.transformers, net_path.name, notes)
        try:
            table["transformer_id"] = assign_buildings(table, pp_net)
        except DecentraError as err:
            raise DecentraError(err.message, source=net_path.name) from None
        tr = pp_net.transformers.drop(columns="lv_bus")
        ln = pp_net.lines
        network_source = (f"pandapower network {net_path.name} ({len(tr)} transformers, "
                          f"{len(ln)} lines); buildings joined to loads by id or nearest load "
                          "bus")
        extra_meta = {"pandapower_json": pp_net.json_text}
    elif transformers is not None or "transformers" in src.siblings:
        if transformers is not None:
            t_src = _read_source(Path(transformers), None, "transformers", limits,
                                 siblings=True)
            t_frame, t_label = t_src.frame, t_src.label
            line_frame = t_src.siblings.get("lines")
        else:
            t_frame, t_label = src.siblings["transformers"], f"{src.label}: transformers"
            line_frame = src.siblings.get("lines")
        tpts = _transformer_points(t_frame, t_label)
        rated = tpts["rating_kva"].to_numpy(float)
        for warning in check_values("rating_kva", rated[np.isfinite(rated)], t_label,
                                    "rating_kva"):
            notes.add(warning)
        check_transformer_distance(table, tpts, t_label, notes)
        lines_in = _lines(line_frame, t_label) if line_frame is not None else None
        net = network_from_transformers(table, tpts, lines_in, profiles, a)
        table = net.buildings
        if "transformer_id" in frame.columns:   # a Decentra export keeps its assignment
            known = frame["transformer_id"].astype(str).to_numpy()
            if set(known) <= set(tpts["transformer_id"]):
                table["transformer_id"] = known
        tr, ln = net.transformers, net.lines
        network_source = (f"{len(tr)} transformers from {t_label}"
                          + (f", {len(ln)} lines as given" if lines_in is not None
                             else "; service lines drawn straight to the nearest transformer"))
        extra_meta = {}
    else:
        if streets is not None:
            s_src = _read_source(Path(streets), None, "streets", limits)
            street_frame = _lines(s_src.frame, s_src.label)
            how = f"synthesized along the streets of {s_src.label}"
        elif "streets" in src.siblings:
            street_frame = _lines(src.siblings["streets"], src.label)
            how = f"synthesized along the streets in {src.label}"
        else:
            street_frame = proxy_streets(table)
            how = ("synthesized along the shortest lines joining the buildings (no streets "
                   "given)")
            notes.add("No feeders or streets given: feeders were synthesized along the "
                      "shortest lines joining the buildings; upload streets for a closer "
                      "network")
        try:
            net = synthesize_network(table, street_frame, profiles, a)
        except DecentraError as err:
            raise DecentraError(err.message, source=src.label) from None
        table, tr, ln = net.buildings, net.transformers, net.lines
        network_source = f"{how} (dashboard.synthesis.feeders)"
        extra_meta = {}

    meta = {"synthetic": "false",
            "description": f"Imported from {src.label}",
            "buildings_source": src.label,
            "weather_source": weather_source,
            "load_profile_source": "BDEW standard load profiles 2025 via demandlib",
            "network_source": network_source, **extra_meta}
    streets_out = (gpd.GeoDataFrame(geometry=street_frame.to_crs(4326).geometry.values, crs=4326)
                   if street_frame is not None else gpd.GeoDataFrame(geometry=[], crs=4326))
    try:
        district = District(name=district_name, buildings=table.reset_index(drop=True),
                            transformers=tr, lines=ln, streets=streets_out,
                            weather=weather_df, load_profiles=profiles, assumptions=a,
                            site=site, meta=meta)
    except DecentraError as err:
        raise DecentraError(err.message, source=src.label, rows=err.rows) from None
    if scenario is not None:
        unknown = [p.building_id for p in scenario.pv if p.building_id not in set(ids)]
        if unknown:   # cannot happen: ids come from the same rows; kept as a guard
            raise DecentraError("placements on unknown buildings", source=src.label,
                                rows=unknown)
    d = district.describe()
    report = ImportReport(
        name=district_name, source=src.label, buildings=d["buildings"],
        footprint_area_m2=d["footprint_area_m2"], annual_demand_kwh=d["annual_demand_kwh"],
        pv_potential_kwp=d["pv_potential_kwp"], transformers=d["transformers"],
        lines=d["lines"], mapping={k: v for k, v in mapping.items()},
        assumed=assumed, notes=tuple(notes.items), network_source=network_source,
        weather_source=weather_source,
        placements=0 if scenario is None else len(scenario.pv) + len(scenario.batteries),
        extent_km=round(extent_km, 2))
    return ImportResult(district, report, scenario)


def _default_name(path: Path) -> str:
    stem = path.name
    for suffix in (".osm.pbf", ".geojson", ".json", ".gpkg", ".zip", ".shp", ".pbf"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem.replace("_", " ").strip() or "Imported district"


def sniff_district(path: Path) -> bool:
    """Whether ``path`` is a Decentra district GeoPackage (then it is loaded as it is)."""
    try:
        if sniff(path) != "gpkg":
            return False
        names = {n for n, _ in list_layers(path)}
    except (DecentraError, OSError):
        return False
    return {"meta", "weather", "load_profiles", "buildings"} <= names


def _existing_district(path: Path) -> ImportResult:
    from dashboard.io.district_gpkg import read_district

    district = read_district(path)
    d = district.describe()
    report = ImportReport(
        name=district.name, source=path.name, buildings=d["buildings"],
        footprint_area_m2=d["footprint_area_m2"], annual_demand_kwh=d["annual_demand_kwh"],
        pv_potential_kwp=d["pv_potential_kwp"], transformers=d["transformers"],
        lines=d["lines"], mapping={}, assumed={},
        notes=("A Decentra district file: loaded as it is",),
        network_source=str(district.meta.get("network_source", "from the district file")),
        weather_source=str(district.meta.get("weather_source", "from the district file")))
    return ImportResult(district, report, None)
