"""The weather of an imported district: a file (EPW, TMY3, DWD TRY), PVGIS, or a bundled DWD
test reference year, on the district's clock.

Without a weather file, PVGIS is tried first (a typical year of the site, cached per user by
rounded latitude and longitude) within :data:`PVGIS_DEADLINE_S`; offline, the import goes on at
once with the bundled DWD TRY2010 year: in Germany that of the site's climate region (demandlib's
``find_try_region``), elsewhere that of the nearest lowland station. A failed PVGIS is not
retried for :data:`PVGIS_RETRY_S`. ``DECENTRA_PVGIS_URL`` names another PVGIS server, or
``off`` to never try.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import pandas as pd

from dashboard.domain.district import Site
from dashboard.domain.errors import DecentraError
from dashboard.importer.report import Notes
from dashboard.io.formats import (
    Limits,
    check_size,
)

MAX_WEATHER_DISTANCE_KM = 1500.0     # bundled weather is used as a stand-in up to this far


FAR_WEATHER_KM = 200.0               # a weather file further than this gets a warning

PVGIS_DEADLINE_S = 5.0               # without a weather file, PVGIS gets this long to answer
PVGIS_RETRY_S = 600.0                # after PVGIS failed, imports skip it for this long
_pvgis_down_until = [0.0]            # time.monotonic() until which PVGIS is not tried


FAR_WEATHER_MARK = "km from the district — an estimate"   # the import dialog marks such lines


def far_weather_text(distance_km: float) -> str:
    """What the report and the app's footer say of weather from ``distance_km`` away."""
    return (f"{distance_km:,.0f} {FAR_WEATHER_MARK}; upload a local EPW, TMY3 or DWD TRY "
            "file")


def pvgis_url() -> str | None:
    """The PVGIS server tried when no weather file is given (``DECENTRA_PVGIS_URL``; pvlib's
    default when unset), None when set to ``off``."""
    from dashboard.io.weather import PVGIS_URL

    value = os.environ.get("DECENTRA_PVGIS_URL", "").strip()
    if value.lower() in {"off", "0", "no", "false"}:
        return None
    return value or PVGIS_URL


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
    from dashboard.io.weather import bundled_try_path, parse_try_meta

    out = []
    for region in range(1, 16):
        path = bundled_try_path(region)
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [next(fh) for _ in range(40)]
        meta = parse_try_meta(head, path)
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


def try_region(lat: float, lon: float) -> int | None:
    """The DWD TRY2010 climate region of a site in Germany (demandlib's ``find_try_region``),
    None outside its map."""
    from demandlib.vdi.dwd_try import find_try_region

    try:
        return int(find_try_region(float(lon), float(lat)))
    except IndexError:              # the point lies in none of the 15 regions' polygons
        return None


def _bundled_weather(lat: float, lon: float, year: int, notes: Notes
                     ) -> tuple[pd.DataFrame, Site, str]:
    from dashboard.io.weather import timezone_name

    region = try_region(lat, lon)
    if region is not None:
        _, station, slat, slon, salt = _try_stations()[region - 1]
        how = "the site's DWD climate region"
    else:
        lowland = [s for s in _try_stations() if s[4] < 1000.0]   # not the mountain region 11
        region, station, slat, slon, salt = min(
            lowland, key=lambda s: _distance_km(lat, lon, s[2], s[3]))
        how = "the nearest station"
    dist = _distance_km(lat, lon, slat, slon)
    if dist > MAX_WEATHER_DISTANCE_KM:
        raise DecentraError(
            f"no weather given, and the nearest bundled weather (DWD TRY region {region}, "
            f"{station}) is {dist:,.0f} km away: upload an EPW, TMY3 or DWD TRY file for "
            "this site, or fetch PVGIS when online", source="weather")
    far = far_weather_text(dist) if dist > FAR_WEATHER_KM else f"{dist:,.0f} km from the district"
    source = f"assumed: DWD TRY2010 region {region} ({station}), {far}; © Deutscher Wetterdienst"
    notes.add(f"No weather file given: weather assumed from DWD TRY2010 region {region} "
              f"({station}, {how}), {far}")
    return _try_weather(region, year).copy(), Site(lat, lon, salt, timezone_name(1.0)), source


def _pvgis_within_deadline(lat: float, lon: float, cache_dir: Path | None, notes: Notes
                           ) -> tuple[pd.DataFrame, dict[str, object]] | None:
    """PVGIS's year for a site when it is cached or answers within the deadline, else None
    (said in the notes). The fetch runs in a daemon thread: a resolver or server that hangs
    cannot hold the import."""
    from dashboard.cache import cache_dir as private_cache_dir
    from dashboard.io.weather import fetch_pvgis, pvgis_cache_path

    url = pvgis_url()
    if url is None:
        return None
    folder = cache_dir / "pvgis" if cache_dir else private_cache_dir("pvgis")
    cached = pvgis_cache_path(lat, lon, folder).exists()
    if not cached and time.monotonic() < _pvgis_down_until[0]:
        notes.add("PVGIS was not reachable a moment ago (offline?): not tried again")
        return None
    box: dict[str, object] = {}

    def fetch() -> None:
        try:
            box["year"] = fetch_pvgis(lat, lon, folder, timeout_s=PVGIS_DEADLINE_S, url=url)
        except Exception as err:   # offline, HTTP error, a damaged answer: all fall back
            box["error"] = err

    worker = threading.Thread(target=fetch, name="decentra-pvgis", daemon=True)
    worker.start()
    worker.join(PVGIS_DEADLINE_S)
    if "year" in box:
        notes.add("No weather file given: the site's typical year from PVGIS"
                  + (" (cached)" if cached else ""))
        return box["year"]                                    # type: ignore[return-value]
    _pvgis_down_until[0] = time.monotonic() + PVGIS_RETRY_S
    err = box.get("error")
    why = (err.message if isinstance(err, DecentraError) else
           f"{type(err).__name__}" if err is not None else
           f"no answer within {PVGIS_DEADLINE_S:g} s")
    notes.add(f"PVGIS not used: {why}")
    return None


def site_weather(spec: str | Path | None, lat: float, lon: float, year: int, notes: Notes,
             cache_dir: Path | None, limits: Limits) -> tuple[pd.DataFrame, Site, str]:
    """The district's weather, its site (on the weather's clock) and a line saying where the
    weather comes from (with the distance when it is far)."""
    from dashboard.cache import cache_dir as private_cache_dir
    from dashboard.energy.weather import hourly_index, weather_from_horizontal
    from dashboard.io.weather import (
        fetch_pvgis,
        read_weather_file,
        timezone_name,
    )

    if spec is None:
        got = _pvgis_within_deadline(round(lat, 2), round(lon, 2), cache_dir, notes)
        if got is None:
            return _bundled_weather(lat, lon, year, notes)
        rows, meta = got
    elif str(spec).lower() == "pvgis":
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
            notes.add(f"The weather file's site is {far_weather_text(dist)}")
            return weather, site, f"{meta.get('source', spec)}, {far_weather_text(dist)}"
    return weather, site, str(meta.get("source", spec))
