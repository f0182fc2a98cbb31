"""Standard load profiles (BDEW, via demandlib) on the district clock.

A profile column holds each hour's share of annual energy (columns sum to 1); a building's
hourly demand [kWh] is its annual demand [kWh] times its use type's profile. The engine never
materialises (hours x buildings) demand: it reads the small (hours x profiles) table.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd

from dashboard.domain.errors import DecentraError
from dashboard.energy.weather import hourly_index

SUPPORTED_PROFILES = ("H25", "G25", "L25", "P25", "S25")


def public_holidays(country: str, year: int) -> dict[dt.date, str]:
    """The nationwide public holidays of a country in a year, from the ``holidays`` package.

    Parameters
    ----------
    country:
        ISO 3166-1 alpha-2 code (``"CZ"``, ``"DE"``); ``""`` for none.
    year:
        Calendar year.

    Returns
    -------
    dict
        date -> holiday name; regional (state, canton) holidays are not included.

    Raises
    ------
    DecentraError
        When ``holidays`` has no calendar for ``country``.
    """
    if not country:
        return {}
    import holidays as holidays_pkg  # its calendars load on first use

    try:
        days = holidays_pkg.country_holidays(country.upper(), years=int(year))
    except NotImplementedError:
        raise DecentraError(f"no public holiday calendar for the country code '{country}' "
                            "(time.holidays): use an ISO 3166 code such as CZ or DE, or "
                            "leave it empty", source="assumptions") from None
    return dict(sorted(days.items()))


def bdew_profiles(year: int, timezone: str, names: tuple[str, ...] = ("H25", "G25", "L25"),
                  holidays: str | None = "CZ") -> pd.DataFrame:
    """Hourly BDEW 2025 standard load profiles, normalised so each column sums to 1.

    The 15-minute profiles are averaged to hourly steps ``[i, i+1)``; holidays count as Sundays
    (BDEW convention). Profiles are laid on the fixed-offset clock of the weather (no daylight
    saving shift). ``holidays`` is the country code of the public holidays
    (:func:`public_holidays`; ``time.holidays`` in the assumptions), None or ``""`` for none.
    Memoized (a fresh copy each call): imports build them repeatedly.
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
    days = public_holidays(holidays, year) if holidays else None
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
    """How many public holidays ``holidays`` (a country code) has in ``year``."""
    return len(public_holidays(holidays, year))


__all__ = [
    "SUPPORTED_PROFILES",
    "bdew_profiles",
    "holiday_count",
    "peak_to_mean",
    "public_holidays",
]
