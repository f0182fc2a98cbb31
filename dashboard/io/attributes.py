"""Foreign attribute names and values mapped to Decentra's building schema.

Cities, OpenStreetMap and GIS exports spell the same things differently; the first matching
alias (case-insensitive) wins and the mapping is reported to the user before they accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard.domain.errors import DecentraError

ALIASES: Mapping[str, Sequence[str]] = {
    "building_id": ("building_id", "id", "osm_id", "osmid", "uid", "fid", "gml_id", "objectid",
                    "gid", "bldg_id", "ref"),
    "use_type": ("use_type", "use", "usage", "building_use", "building", "building_type",
                 "type", "function", "amenity"),
    "storeys": ("storeys", "building:levels", "building_levels", "levels", "floors",
                "num_floors", "stories", "storey_count", "n_floors"),
    "height_m": ("height_m", "height", "building:height", "building_height", "h"),
    "annual_demand_kwh": ("annual_demand_kwh", "annual_kwh", "demand_kwh", "consumption_kwh",
                          "electricity_kwh", "kwh"),
    "roof_area_m2": ("roof_area_m2", "roof_area", "roofarea"),
    # declared areas are checked, not used: footprints are measured from the geometry
    "footprint_area_m2": ("footprint_area_m2", "area_m2", "area", "shape_area", "st_area"),
}
NUMERIC = ("storeys", "height_m", "annual_demand_kwh", "roof_area_m2", "footprint_area_m2")

# Placement columns written by Decentra's own exports (GeoJSON / GeoPackage of placements).
PLACEMENT_COLUMNS = ("pv_kwp", "pv_tilt_deg", "pv_azimuth_deg", "battery_kwh", "battery_kw")

# Values of use / building-type columns (OpenStreetMap building=* and common GIS terms).
USE_VOCABULARY: Mapping[str, str] = {
    **dict.fromkeys(["residential", "apartments", "house", "detached", "semidetached_house",
                     "terrace", "dormitory", "bungalow", "residence", "dwelling", "housing",
                     "flats", "villa", "farmhouse", "semi", "home"], "residential"),
    **dict.fromkeys(["commercial", "retail", "office", "shop", "supermarket", "hotel",
                     "kiosk", "service", "bank", "restaurant", "mixed", "mixed_use"],
                    "commercial"),
    **dict.fromkeys(["public", "school", "university", "college", "kindergarten", "hospital",
                     "civic", "government", "church", "chapel", "public_building", "library",
                     "townhall", "fire_station", "sports_hall", "train_station",
                     "transportation", "museum", "theatre", "community_centre"], "public"),
    **dict.fromkeys(["industrial", "warehouse", "manufacture", "factory", "workshop"],
                    "industrial"),
    **dict.fromkeys(["farm", "barn", "agricultural", "greenhouse", "stable", "cowshed"],
                    "agricultural"),
    **dict.fromkeys(["garage", "garages", "shed", "carport", "hut", "roof", "outbuilding",
                     "storage", "parking", "toilets", "ancillary", "service_building"],
                    "ancillary"),
}


def find_columns(columns: Sequence[str]) -> dict[str, str | None]:
    """Canonical name -> the source column it is read from (None: not present)."""
    lower = {str(c).lower(): str(c) for c in columns if str(c) != "geometry"}
    out: dict[str, str | None] = {}
    taken: set[str] = set()
    for canonical, aliases in ALIASES.items():
        out[canonical] = None
        for alias in aliases:
            col = lower.get(alias)
            if col is not None and col not in taken:
                out[canonical] = col
                taken.add(col)
                break
    return out


def ids_for(frame: pd.DataFrame, column: str | None) -> list[str]:
    """Building ids as text; the offending ids when duplicated."""
    if column is None:
        return [f"B{i + 1:05d}" for i in range(len(frame))]
    raw = frame[column]
    if raw.isna().any():
        rows = list(frame.index[raw.isna()][:10])
        raise DecentraError(f"the id column '{column}' has empty values", rows=rows)
    ids = raw.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                  else str(v).strip())
    bad = ids[(ids == "") | (ids.str.len() > 200)]
    if len(bad):
        raise DecentraError(f"ids in '{column}' must be 1-200 characters",
                            rows=[str(i) for i in bad.index[:10]])
    dupes = ids[ids.duplicated(keep=False)]
    if len(dupes):
        raise DecentraError(f"building ids in '{column}' are not unique",
                            rows=sorted(set(dupes))[:10])
    return ids.tolist()


def numeric_column(frame: pd.DataFrame, column: str, canonical: str, ids: Sequence[str]
                   ) -> pd.Series:
    """A mapped numeric column; text that is not a number or negative values are errors."""
    raw = frame[column]
    text = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
    if canonical == "height_m":   # OSM heights may carry units: "12 m"
        text = text.str.replace(r"\s*m$", "", regex=True)
    empty = raw.isna() | (text == "") | text.isna()
    values = pd.to_numeric(text.where(~empty), errors="coerce")
    bad = (~empty) & values.isna()
    if bad.any():
        rows = [ids[int(i)] for i in np.flatnonzero(bad.to_numpy())][:10]
        examples = ", ".join(repr(str(v)) for v in raw[bad].head(3))
        raise DecentraError(f"'{column}' ({canonical}) has values that are not numbers "
                            f"(e.g. {examples})", rows=rows)
    negative = values < 0
    if negative.any():
        rows = [ids[int(i)] for i in np.flatnonzero(negative.to_numpy())][:10]
        raise DecentraError(f"'{column}' ({canonical}) has negative values", rows=rows)
    if canonical == "storeys" and (values > 300).any():
        rows = [ids[int(i)] for i in np.flatnonzero((values > 300).to_numpy())][:10]
        raise DecentraError(f"'{column}' has more than 300 storeys: not a building", rows=rows)
    return values.astype(float)


def use_types(frame: pd.DataFrame, column: str | None) -> tuple[pd.Series, int]:
    """Mapped use types (None where unknown: then assumed from the footprint) and how many
    values were not recognised."""
    if column is None:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object), 0
    raw = frame[column].astype("string").str.strip().str.lower()
    mapped = raw.map(lambda v: USE_VOCABULARY.get(v) if isinstance(v, str) else None)
    generic = raw.isin(["yes", "true", "1", "building"])          # OSM building=yes
    unknown = int((raw.notna() & mapped.isna() & ~generic).sum())
    return mapped.astype(object).where(mapped.notna(), None), unknown
