"""Standard load profiles (BDEW, via demandlib) on the district clock.

A profile column holds each hour's share of annual energy (columns sum to 1); a building's
hourly demand [kWh] is its annual demand [kWh] times its use type's profile. The engine never
materialises (hours x buildings) demand: it reads the small (hours x profiles) table.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd
from dateutil.easter import easter

from dashboard.energy.weather import hourly_index

SUPPORTED_PROFILES = ("H25", "G25", "L25", "P25", "S25")


def czech_public_holidays(year: int) -> dict[dt.date, str]:
    """Public holidays of the Czech Republic (Act No. 245/2000 Coll., as amended)."""
    e = easter(year)
    return {
        dt.date(year, 1, 1): "Restoration Day of the Independent Czech State / New Year",
        e - dt.timedelta(days=2): "Good Friday",
        e + dt.timedelta(days=1): "Easter Monday",
        dt.date(year, 5, 1): "Labour Day",
        dt.date(year, 5, 8): "Liberation Day",
        dt.date(year, 7, 5): "Saints Cyril and Methodius Day",
        dt.date(year, 7, 6): "Jan Hus Day",
        dt.date(year, 9, 28): "Czech Statehood Day",
        dt.date(year, 10, 28): "Independent Czechoslovak State Day",
        dt.date(year, 11, 17): "Struggle for Freedom and Democracy Day",
        dt.date(year, 12, 24): "Christmas Eve",
        dt.date(year, 12, 25): "Christmas Day",
        dt.date(year, 12, 26): "St Stephen's Day",
    }


HOLIDAY_CALENDARS = {"CZ": czech_public_holidays}


def bdew_profiles(year: int, timezone: str, names: tuple[str, ...] = ("H25", "G25", "L25"),
                  holidays: str | None = "CZ") -> pd.DataFrame:
    """Hourly BDEW 2025 standard load profiles, normalised so each column sums to 1.

    The 15-minute profiles are averaged to hourly steps ``[i, i+1)``; holidays count as Sundays
    (BDEW convention). Profiles are laid on the fixed-offset clock of the weather (no daylight
    saving shift). Memoized (a fresh copy each call): imports build them repeatedly.
    """
    return _bdew_profiles(int(year), str(timezone), tuple(names), holidays or None).copy()


@lru_cache(maxsize=16)
def _bdew_profiles(year: int, timezone: str, names: tuple[str, ...],
                   holidays: str | None) -> pd.DataFrame:
    from demandlib import bdew  # heavy import, only needed when building profiles

    unknown = [n for n in names if n not in SUPPORTED_PROFILES]
    if unknown:
        raise ValueError(f"unknown load profiles {unknown}; supported: {SUPPORTED_PROFILES}")
    index = hourly_index(year, timezone)
    naive = index.tz_localize(None)
    quarter = pd.date_range(naive[0], periods=len(naive) * 4, freq="15min")
    days = HOLIDAY_CALENDARS[holidays](year) if holidays else None
    out = {}
    for name in names:
        series = getattr(bdew, name)(quarter, holidays=days)
        hourly = series.to_numpy(float).reshape(-1, 4).mean(axis=1)
        out[name] = hourly / hourly.sum()
    return pd.DataFrame(out, index=index)


def peak_to_mean(profiles: pd.DataFrame) -> pd.Series:
    """Ratio of each profile's peak hour to its mean hour (for sizing)."""
    values = profiles.to_numpy(float)
    return pd.Series(values.max(axis=0) / values.mean(axis=0), index=profiles.columns)


def holiday_count(year: int, holidays: str = "CZ") -> int:
    return len(HOLIDAY_CALENDARS[holidays](year))


__all__ = [
    "SUPPORTED_PROFILES",
    "bdew_profiles",
    "czech_public_holidays",
    "holiday_count",
    "peak_to_mean",
]
