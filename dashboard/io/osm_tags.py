"""OpenStreetMap tag values read robustly: storeys, heights, construction periods, use types.

OSM values are free text typed by mappers ("3", "3.5", "3;4", "III", "12 m", "12'6\"",
"before 1939", "1890s", "C19"). A value that cannot be read as one number (or one period) is
*refused*: the building is treated as not having the tag (its value is then assumed) and the
caller says how many were refused in a note. Nothing here raises for a strange tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.domain.assumptions import PERIODS

_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_METRES = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:m|metres|meters)?$")
_FEET = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:'|ft|feet)\s*(?:(\d+(?:\.\d+)?)\s*(?:\"|in))?$")
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
_DECADE = re.compile(r"(?<!\d)(1[0-9]{2}|20[0-9])0s")
_CENTURY = re.compile(r"^c\s?(\d{2})$")


def _text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower().str.replace(",", ".", regex=False)
    return text.where(text.notna() & (text != ""), None)


def parse_number(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One non-negative number per value (``"3"``, ``"3.5"``, ``"3,5"``).

    Returns
    -------
    values, refused:
        float array (NaN where empty or refused) and a bool array: the value was present but
        not one number (``"3;4"``, ``"III"``, ``"3-4"``, ``"three"``).
    """
    text = _text(values)
    present = text.notna().to_numpy()
    ok = text.str.fullmatch(_NUMBER.pattern).fillna(False).to_numpy(bool)
    out = pd.to_numeric(text.where(ok), errors="coerce").to_numpy(float)
    return out, present & ~ok


def parse_height_m(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Heights in metres from ``"12"``, ``"12.5 m"``, ``"40'"`` or ``"12'6\\""`` (feet and
    inches); ``(values, refused)`` as :func:`parse_number`."""
    text = _text(values)
    present = text.notna().to_numpy()
    metres = text.str.extract(_METRES.pattern)[0]
    feet = text.str.extract(_FEET.pattern)
    out = pd.to_numeric(metres, errors="coerce").to_numpy(float)
    ft = (pd.to_numeric(feet[0], errors="coerce").to_numpy(float) * 0.3048
          + np.nan_to_num(pd.to_numeric(feet[1], errors="coerce").to_numpy(float)) * 0.0254)
    out = np.where(np.isfinite(out), out, ft)
    return out, present & ~np.isfinite(out)


def period_of_years(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The period code holding every year from ``first`` to ``last`` (object array; None
    where the span crosses a period boundary or is unknown)."""
    out = np.full(len(first), None, dtype=object)
    for code, lo, hi in PERIODS:
        inside = (first >= lo) & (last <= hi)
        out[inside] = code
    return out


def _year_span(text: str) -> tuple[float, float]:
    """Earliest and latest year a date text allows (NaN, NaN: unreadable)."""
    century = _CENTURY.match(text)
    if century:                                   # "C19": the 19th century
        c = int(century.group(1))
        return 100.0 * (c - 1) + 1, 100.0 * c
    years = [int(y) for y in _YEAR.findall(text)]
    decades = [int(d) * 10 for d in _DECADE.findall(text)]
    if not years and not decades:
        return np.nan, np.nan
    lo = min(years + decades)
    hi = max(years + [d + 9 for d in decades])
    if "before" in text or text.startswith("<"):
        return -np.inf, hi - 1
    if "after" in text or text.startswith(">"):
        return lo + 1, np.inf
    return float(lo), float(hi)


def parse_period(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Construction period codes (see :data:`PERIODS`) from OSM ``start_date``-like text:
    ``"1887"``, ``"1955-06-01"``, ``"1890s"``, ``"C19"``, ``"1865;1890"`` (both in one
    period), ``"before 1900"``.

    Returns
    -------
    periods, refused:
        object array of codes (None where unknown) and a bool array: present but no single
        period follows from it (``"before 1939"`` may be any time before 1939; ``"1910;1925"``
        spans two periods; ``"unknown"``).
    """
    text = _text(values)
    present = text.notna().to_numpy()
    spans = np.array([_year_span(t) if isinstance(t, str) else (np.nan, np.nan)
                      for t in text.to_numpy(object)], dtype=float).reshape(-1, 2)
    periods = period_of_years(spans[:, 0], spans[:, 1])
    return periods, present & pd.isna(periods)


def first_present(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Row-wise first non-empty value of ``columns`` (those present in ``frame``)."""
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for col in columns:
        if col in frame.columns:
            text = frame[col].astype("string").str.strip()
            text = text.where(text.notna() & (text != ""), None).astype(object)
            out = out.where(out.notna(), text)
    return out
