"""The public-holiday calendar of an imported district: its country, found offline.

The site's latitude and longitude give its IANA time zone (``timezonefinder``, polygons of the
timezone-boundary-builder project shipped in the package), the zone gives the country (the tz
database's ``zone.tab``, one ISO 3166 code per zone, from the ``tzdata`` package or the
system's zoneinfo), and the country gives the calendar (``holidays`` package). A point at sea
lies in an ``Etc/GMT±n`` zone of no country: no holidays, said in the report.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.importer.report import Notes

SYSTEM_ZONEINFO = Path("/usr/share/zoneinfo")


def _tab(name: str) -> str:
    """A table of the tz database (``zone.tab``, ``iso3166.tab``): Python's tzdata package
    first, the system's zoneinfo otherwise."""
    try:
        from importlib import resources

        return (resources.files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return (SYSTEM_ZONEINFO / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def zone_countries() -> dict[str, str]:
    """IANA zone name -> ISO 3166-1 alpha-2 country code (``zone.tab``)."""
    out = {}
    for line in _tab("zone.tab").splitlines():
        if line and not line.startswith("#"):
            code, _, zone = line.split("\t")[:3]
            out[zone] = code
    return out


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English short name (``iso3166.tab``)."""
    out = {}
    for line in _tab("iso3166.tab").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t")[:2]
            out[code] = name
    return out


@lru_cache(maxsize=1)
def _finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def site_zone(latitude_deg: float, longitude_deg: float) -> str | None:
    """The IANA time zone of a point (``Etc/GMT±n`` at sea), None if there is none."""
    zone = _finder().timezone_at(lng=float(longitude_deg), lat=float(latitude_deg))
    return str(zone) if zone else None


def site_country(latitude_deg: float, longitude_deg: float) -> str | None:
    """ISO 3166-1 alpha-2 code of the country a point lies in (by its time zone), None at sea.

    Parameters
    ----------
    latitude_deg, longitude_deg:
        WGS84 degrees.

    Returns
    -------
    str or None
        ``"DE"`` for Berlin, ``"FI"`` for Helsinki; None for a point in no country's zone.
    """
    zone = site_zone(latitude_deg, longitude_deg)
    return zone_countries().get(zone) if zone else None


def site_holidays(latitude_deg: float, longitude_deg: float, year: int, notes: Notes) -> str:
    """The country code whose public holidays the district's load profiles use (stored as
    ``time.holidays``), ``""`` for none; the report says which calendar was used."""
    from dashboard.energy.load import public_holidays

    zone = site_zone(latitude_deg, longitude_deg)
    code = zone_countries().get(zone) if zone else None
    if code is None:
        notes.add(f"Public holidays: none found (the site lies in no country's time zone: "
                  f"{zone or 'none'}); load profiles treat every weekday as a working day")
        return ""
    name = country_names().get(code, code)
    try:
        days = public_holidays(code, year)
    except DecentraError:
        days = {}
    if not days:
        notes.add(f"Public holidays: none found for {name} ({code}); load profiles treat "
                  "every weekday as a working day")
        return ""
    notes.add(f"Public holidays: {name} ({code}), {len(days)} days in {year} (nationwide; "
              "counted as Sundays in the load profiles)")
    return code


__all__ = ["country_names", "site_country", "site_holidays", "site_zone", "zone_countries"]
