"""Building attributes from a file's columns (storeys, height, demand, use, roofs) checked for
plausibility, and placements found in Decentra's own exports.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import BatteryPlacement, PvPlacement, Scenario
from dashboard.importer.report import Notes
from dashboard.io import attributes as attrs
from dashboard.io.osm_tags import (
    first_present,
    parse_height_m,
    parse_number,
    parse_period,
)
from dashboard.io.plausibility import BOUNDS, check_values


def file_attributes(frame: gpd.GeoDataFrame, label: str, id_column: str | None, notes: Notes
                ) -> tuple[gpd.GeoDataFrame, dict[str, str | None]]:
    """Canonical input columns for :func:`building_attributes` and the mapping used.

    Storeys, heights, roof levels, minimum levels and dwellings are read like OSM tags: a value
    that is not one number (``"3;4"``, ``"III"``) is refused with a note and the building's
    value assumed; construction dates become periods (``construction_period``) the same way.
    """
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
        for key in attrs.TAG_NUMBERS:
            col = mapping.get(key)
            if col is not None:
                values[key] = _tag_number(frame, col, key, label, notes)
        for key, series in values.items():
            known = series.notna().to_numpy()
            if key in BOUNDS:
                for warning in check_values(key, series.to_numpy(float)[known], label,
                                            mapping[key], [i for i, k in zip(ids, known,
                                                                             strict=True) if k]):
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
    out["critical"], out["critical_reason"] = attrs.critical_facilities(frame)
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
    for key in ("roof_levels", "min_level"):
        if key in values:
            out[key] = values[key].to_numpy(float)
    flats = (values["dwellings"].to_numpy(float) if "dwellings" in values
             else np.full(len(frame), np.nan))
    flats = np.where(flats > 0, flats, np.nan)
    by_type = attrs.house_dwellings(frame, mapping["use_type"])
    out["dwellings"] = np.where(np.isfinite(flats), flats, by_type)
    out["construction_period"] = _periods(frame, mapping, label, notes)
    return out, mapping


def _tag_number(frame: pd.DataFrame, column: str, key: str, label: str, notes: Notes
                ) -> pd.Series:
    parse = parse_height_m if key == "height_m" else parse_number
    negative = pd.to_numeric(frame[column], errors="coerce").to_numpy(float) < 0
    if negative.any():          # a number, but an impossible one: refused, not assumed
        raise DecentraError(f"'{column}' ({key}) has negative values",
                            rows=[int(i) for i in np.flatnonzero(negative)[:10]])
    values, refused = parse(frame[column])
    if refused.any():
        examples = ", ".join(repr(str(v)) for v in
                             frame[column][refused].drop_duplicates().head(3))
        notes.add(f"{label}: {int(refused.sum()):,} values of '{column}' are not one number "
                  f"(e.g. {examples}); they were ignored and the {key.replace('_', ' ')} of "
                  "those buildings assumed")
    return pd.Series(values, index=frame.index, dtype=float)


def _periods(frame: pd.DataFrame, mapping: dict[str, str | None], label: str,
             notes: Notes) -> np.ndarray:
    """Construction period codes from the first date column present (None: unknown)."""
    lower = {str(c).lower(): str(c) for c in frame.columns}
    columns = [lower[a] for a in attrs.ALIASES["construction_period"] if a in lower]
    if not columns:
        return np.full(len(frame), None, dtype=object)
    text = first_present(frame, columns)
    periods, refused = parse_period(text)
    if refused.any():
        examples = ", ".join(repr(str(v)) for v in text[refused].drop_duplicates().head(3))
        notes.add(f"{label}: {int(refused.sum()):,} construction dates in "
                  f"'{mapping.get('construction_period')}' do not fall in one period (e.g. "
                  f"{examples}); the period of those buildings is unknown")
    return periods


def file_placements(frame: gpd.GeoDataFrame, ids: list[str], label: str, name: str
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
