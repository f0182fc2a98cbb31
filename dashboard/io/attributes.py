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
                 "type", "function", "amenity", "shop", "office"),
    "storeys": ("storeys", "building:levels", "building_levels", "levels", "floors",
                "num_floors", "stories", "storey_count", "n_floors"),
    "height_m": ("height_m", "height", "building:height", "building_height", "h"),
    "annual_demand_kwh": ("annual_demand_kwh", "annual_kwh", "demand_kwh", "consumption_kwh",
                          "electricity_kwh", "kwh"),
    "roof_area_m2": ("roof_area_m2", "roof_area", "roofarea"),
    # OpenStreetMap's Simple 3D Buildings: levels in the roof, levels missing underneath
    "roof_levels": ("roof_levels", "roof:levels"),
    "min_level": ("min_level", "building:min_level"),
    "dwellings": ("dwellings", "building:flats", "num_dwellings", "dwelling_units"),
    "construction_period": ("construction_period", "start_date", "building:year",
                            "construction_date", "year_built", "construction_year",
                            "year_of_construction"),
    # declared areas are checked, not used: footprints are measured from the geometry
    "footprint_area_m2": ("footprint_area_m2", "area_m2", "area", "shape_area", "st_area"),
}
NUMERIC = ("annual_demand_kwh", "roof_area_m2", "footprint_area_m2")
# Tag-like numbers (OpenStreetMap): a value that is not one number is refused with a note and
# the building's value assumed, rather than refusing the file.
TAG_NUMBERS = ("storeys", "height_m", "roof_levels", "min_level", "dwellings")
# Where a use column says only "yes", these columns (OSM keys) may still tell the use.
USE_FALLBACK_COLUMNS = ("amenity", "shop", "office")

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
# OSM amenity=*, shop=*, office=* values where building=yes (any shop or office is
# commercial unless listed here).
AMENITY_VOCABULARY: Mapping[str, str] = {
    **dict.fromkeys(["school", "university", "college", "kindergarten", "hospital", "clinic",
                     "townhall", "library", "place_of_worship", "fire_station", "police",
                     "courthouse", "theatre", "arts_centre", "community_centre", "museum",
                     "government", "social_facility", "prison", "post_office", "childcare",
                     "music_school", "concert_hall", "cinema"], "public"),
    **dict.fromkeys(["bank", "pub", "bar", "cafe", "restaurant", "fast_food", "pharmacy",
                     "marketplace", "nightclub", "doctors", "dentist", "fuel", "hotel",
                     "company", "central_bank", "mall", "department_store", "supermarket"],
                    "commercial"),
    **dict.fromkeys(["shelter", "bandstand", "toilets", "parking", "bicycle_parking"],
                    "ancillary"),
}
# Critical facilities (resilience hubs) from OSM tags: key -> values (None: any value but
# "no"). The first matching key names the reason ("amenity=hospital"). amenity=shelter is kept
# unless its shelter_type says it is a bus stop or picnic roof (no place to keep people).
CRITICAL_TAGS: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("amenity", frozenset({"hospital", "clinic", "school", "kindergarten", "fire_station",
                           "police", "shelter", "townhall"})),
    ("building", frozenset({"hospital", "school", "fire_station"})),
    ("emergency", None),
    ("social_facility", frozenset({"shelter"})),
)
NOT_A_REFUGE = frozenset({"public_transport", "picnic_shelter", "gazebo", "weather_shelter",
                          "sun_shelter", "lean_to", "field_shelter", "rock_shelter"})
TRUE_TEXT = frozenset({"true", "yes", "1", "y", "t"})

# building=* values that name one house (dwellings per building); apartments etc. do not.
HOUSE_DWELLINGS: Mapping[str, float] = {
    **dict.fromkeys(["house", "detached", "bungalow", "villa", "farmhouse", "home",
                     "dwelling", "cabin"], 1.0),
    "semidetached_house": 2.0, "semi": 2.0}


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
    values were not recognised.

    A generic value (OSM ``building=yes``) or an absent one is completed from the other OSM
    keys present (``amenity``, ``shop``, ``office``, in that order): a ``building=yes`` with
    ``amenity=school`` is public, with ``shop=*`` or ``office=*`` commercial.
    """
    mapped = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    unknown = 0
    if column is not None:
        raw = frame[column].astype("string").str.strip().str.lower()
        vocab = USE_VOCABULARY if column.lower() not in USE_FALLBACK_COLUMNS else {
            **USE_VOCABULARY, **AMENITY_VOCABULARY}
        mapped = raw.map(lambda v: vocab.get(v) if isinstance(v, str) else None).astype(object)
        generic = raw.isin(["yes", "true", "1", "building"])          # OSM building=yes
        unknown_mask = raw.notna() & mapped.isna() & ~generic
    lower = {str(c).lower(): c for c in frame.columns}
    for key in USE_FALLBACK_COLUMNS:
        col = lower.get(key)
        if col is None or col == column:
            continue
        raw_k = frame[col].astype("string").str.strip().str.lower()
        hit = raw_k.map(lambda v: AMENITY_VOCABULARY.get(v) if isinstance(v, str) else None)
        if key in ("shop", "office"):       # any shop or office not listed: commercial
            keep = (hit.notna() | raw_k.isna() | raw_k.isin(["no", "vacant"])).fillna(True)
            hit = hit.where(keep.astype(bool), "commercial")
        if key == "office":
            hit = hit.where((raw_k != "government").fillna(True).astype(bool), "public")
        mapped = mapped.where(mapped.notna(), hit.astype(object))
    if column is not None:
        unknown = int((unknown_mask & mapped.isna()).sum())
    return mapped.where(mapped.notna(), None), unknown


def house_dwellings(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    """Dwellings per building implied by its type (1 for ``building=house``, 2 for a
    semi-detached house; NaN where the type does not say)."""
    if column is None:
        return np.full(len(frame), np.nan)
    raw = frame[column].astype("string").str.strip().str.lower()
    return raw.map(lambda v: HOUSE_DWELLINGS.get(v, np.nan) if isinstance(v, str)
                   else np.nan).to_numpy(float)


def critical_facilities(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which buildings are critical facilities, and why.

    A ``critical`` column (a Decentra export, a city's own list: true/yes/1) wins, with its
    ``critical_reason`` where given; else the OSM tags of :data:`CRITICAL_TAGS`
    (``amenity=hospital|clinic|school|kindergarten|fire_station|police|shelter|townhall``,
    ``building=hospital|school|fire_station``, any ``emergency=*`` but ``no``,
    ``social_facility=shelter``), the first matching key giving the reason.

    Returns
    -------
    critical, reason:
        bool array and object array of text (``"amenity=hospital"``; ``""`` where not
        critical), one per row of ``frame``.
    """
    n = len(frame)
    critical = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    lower = {str(c).lower(): c for c in frame.columns if str(c) != "geometry"}

    def text(key: str) -> pd.Series | None:
        col = lower.get(key)
        if col is None:
            return None
        return frame[col].astype("string").str.strip().str.lower()

    own = text("critical")
    if own is not None:
        flag = own.isin(list(TRUE_TEXT)).fillna(False).to_numpy(bool)
        why = text("critical_reason")
        given = (frame[lower["critical_reason"]].astype("string").fillna("").str.strip()
                 .to_numpy(object) if why is not None else np.full(n, "", dtype=object))
        reason = np.where(flag, np.where(given != "", given, "critical column"), "")
        return flag, reason.astype(object)
    shelter_type = text("shelter_type")
    for key, values in CRITICAL_TAGS:
        raw = text(key)
        if raw is None:
            continue
        if values is None:
            hit = (raw.notna() & (raw != "") & (raw != "no")).fillna(False)
        else:
            hit = raw.isin(list(values)).fillna(False)
            if key == "amenity" and shelter_type is not None:
                hit = hit & ~((raw == "shelter") & shelter_type.isin(list(NOT_A_REFUGE))
                              ).fillna(False)
        new = hit.to_numpy(bool) & ~critical
        reason[new] = [f"{key}={v}" for v in raw.to_numpy(object)[new]]
        critical |= new
    return critical, reason
