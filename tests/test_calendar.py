"""Calendars and weather of an imported site.

Public holidays come from the site's country (timezonefinder -> tz database zone.tab ->
``holidays``); the Czech calendar is checked against the Act, the load profiles against
demandlib and the BDEW convention (a holiday is a Sunday). German sites take the DWD TRY year of
their climate region (demandlib's own ``find_try_region``). PVGIS is tried against a server of
this test's own on localhost: the cache means a second import asks nothing; an unreachable or
silent server costs the import at most the deadline.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from dateutil.easter import easter
from pyproj import Geod
from shapely.geometry import box

import dashboard as dc
from dashboard.energy.load import bdew_profiles, public_holidays
from dashboard.importer import import_district, site_country
from dashboard.importer import weather as import_weather
from dashboard.importer.report import Notes
from dashboard.io.district_gpkg import read_district, write_district
from dashboard.io.formats import Limits
from dashboard.io.weather import bundled_try_path, read_dwd_try
from dashboard.synthesis.district import profiles_for
from tests.importfiles import bubenec_footprints

TZ = "Etc/GMT-1"


def czech_holidays_by_the_act(year: int) -> set[dt.date]:
    """Act No. 245/2000 Coll. as amended (Good Friday since 2016), written out by hand."""
    e = easter(year)
    return {dt.date(year, 1, 1), e - dt.timedelta(days=2), e + dt.timedelta(days=1),
            dt.date(year, 5, 1), dt.date(year, 5, 8), dt.date(year, 7, 5), dt.date(year, 7, 6),
            dt.date(year, 9, 28), dt.date(year, 10, 28), dt.date(year, 11, 17),
            dt.date(year, 12, 24), dt.date(year, 12, 25), dt.date(year, 12, 26)}


def test_the_czech_calendar_is_the_act():
    for year in range(2016, 2036):
        assert set(public_holidays("CZ", year)) == czech_holidays_by_the_act(year), year


def test_czech_profiles_are_those_of_the_default_district():
    """The default district's stored profiles were built with the hand-written Czech
    calendar: the holidays package must give them to the last bit."""
    d = dc.load_district()
    assert d.assumptions.text("time.holidays") == "CZ"
    again = profiles_for(d.assumptions, 2019, d.site.timezone)
    np.testing.assert_array_equal(again.to_numpy(), d.load_profiles.to_numpy())


def _day(series: pd.Series, day: dt.date) -> np.ndarray:
    return series[series.index.date == day].to_numpy()


def _demandlib_hourly(name: str, holidays: dict[dt.date, str]) -> np.ndarray:
    from demandlib import bdew

    quarter = pd.date_range("2019-01-01", periods=8760 * 4, freq="15min")
    hourly = getattr(bdew, name)(quarter, holidays=holidays).to_numpy(float)
    hourly = hourly.reshape(-1, 4).mean(axis=1)
    return hourly / hourly.sum()


@pytest.mark.parametrize("country, holiday, sunday, name", [
    ("DE", dt.date(2019, 10, 3), dt.date(2019, 10, 6), "German Unity Day (Thursday)"),
    ("FR", dt.date(2019, 11, 11), dt.date(2019, 11, 10), "Armistice Day (Monday)"),
    ("CZ", dt.date(2019, 10, 28), dt.date(2019, 10, 27), "Czechoslovak State Day (Monday)"),
])
def test_a_holiday_is_a_sunday_in_the_load_profiles(country, holiday, sunday, name):
    assert holiday in public_holidays(country, 2019), name
    others = {"DE": "FR", "FR": "DE", "CZ": "DE"}
    assert holiday not in public_holidays(others[country], 2019)
    with_h = bdew_profiles(2019, TZ, ("H25", "G25"), holidays=country)
    without = bdew_profiles(2019, TZ, ("H25", "G25"), holidays=None)
    elsewhere = bdew_profiles(2019, TZ, ("H25", "G25"), holidays=others[country])
    # G25 has no dynamisation: the holiday's hours are the Sunday's, a working day's are not
    g_hol, g_sun = _day(with_h["G25"], holiday), _day(with_h["G25"], sunday)
    np.testing.assert_allclose(g_hol, g_sun, rtol=1e-12)
    assert not np.allclose(_day(without["G25"], holiday), g_sun, rtol=1e-3)
    # another country's calendar leaves the day a working day (same shape; the year's total,
    # and so the scale, differs by the other country's holidays)
    other, plain = _day(elsewhere["G25"], holiday), _day(without["G25"], holiday)
    np.testing.assert_allclose(other / other.sum(), plain / plain.sum(), rtol=1e-12)
    # H25 is dynamised by the day of the year: the holiday is the Sunday's shape times a factor
    ratio = _day(with_h["H25"], holiday) / _day(with_h["H25"], sunday)
    assert np.ptp(ratio) < 1e-9 and 0.9 < ratio[0] < 1.1
    assert np.ptp(_day(without["H25"], holiday) / _day(without["H25"], sunday)) > 1e-3
    # and the whole year is demandlib's, given that single day by hand
    for profile in ("H25", "G25"):
        ref = _demandlib_hourly(profile, {d: "x" for d in public_holidays(country, 2019)})
        np.testing.assert_allclose(with_h[profile].to_numpy(), ref, rtol=1e-12)
        one = _demandlib_hourly(profile, {holiday: name})
        hours = with_h.index.date == holiday
        mine = with_h[profile].to_numpy()[hours]
        np.testing.assert_allclose(mine / mine.sum(), one[hours] / one[hours].sum(), rtol=1e-9)


def test_countries_of_sites():
    assert site_country(52.52, 13.40) == "DE"          # Berlin
    assert site_country(60.17, 24.94) == "FI"          # Helsinki
    assert site_country(48.85, 2.35) == "FR"           # Paris
    assert site_country(50.10, 14.40) == "CZ"          # Prague
    assert site_country(51.50, -0.12) == "GB"          # London
    assert site_country(55.0, 4.0) is None             # the North Sea
    assert site_country(47.0, -30.0) is None           # the Atlantic


def test_unknown_holidays_are_refused():
    with pytest.raises(dc.DecentraError, match=r"no public holiday calendar.*'XX'"):
        public_holidays("XX", 2019)


# ---- imports ------------------------------------------------------------------------------
def small_town(folder: Path, lat: float, lon: float, name: str) -> Path:
    frame = gpd.GeoDataFrame(geometry=[box(lon + i * 3e-4, lat, lon + i * 3e-4 + 2e-4,
                                           lat + 1e-4) for i in range(5)], crs=4326)
    path = folder / f"{name}.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


def test_a_german_site_gets_german_holidays_and_its_dwd_climate_region(tmp_path):
    from demandlib.vdi.dwd_try import find_try_region

    lat, lon = 49.452, 11.077                           # Nuremberg
    result = import_district(small_town(tmp_path, lat, lon, "nuremberg"))
    d, rep = result.district, result.report
    assert d.assumptions.text("time.holidays") == "DE"
    assert any(n.startswith("Public holidays: Germany (DE), 9 days in 2019") for n in rep.notes)
    np.testing.assert_array_equal(
        d.load_profiles.to_numpy(),
        bdew_profiles(2019, d.site.timezone, tuple(d.load_profiles.columns), "DE").to_numpy())
    # the TRY year of demandlib's region map (13, Mühldorf), not the nearest station (Hof, 10)
    region = int(find_try_region(d.site.longitude_deg, d.site.latitude_deg))
    assert region == 13 and f"region {region} (" in rep.weather_source
    raw, _ = read_dwd_try(bundled_try_path(region))
    np.testing.assert_allclose(d.weather["dhi"].to_numpy(), raw["dhi"].to_numpy())
    geod = Geod(ellps="WGS84")
    stations = {r: read_dwd_try(bundled_try_path(r))[1] for r in range(1, 16) if r != 11}
    nearest = min(stations, key=lambda r: geod.inv(
        lon, lat, stations[r]["longitude_deg"], stations[r]["latitude_deg"])[2])
    assert nearest == 10                               # what the old rule picked
    # the country code survives the GeoPackage
    again = read_district(write_district(d, tmp_path / "nuremberg.gpkg"))
    assert again.assumptions.text("time.holidays") == "DE"
    assert again.content_hash == d.content_hash


def test_helsinki_gets_finnish_holidays_and_a_far_weather_warning(tmp_path):
    from dashboard.ui.importing.logic import report_view
    from dashboard.ui.shell import credits

    lat, lon = 60.17, 24.94
    result = import_district(small_town(tmp_path, lat, lon, "helsinki"))
    d, rep = result.district, result.report
    assert d.assumptions.text("time.holidays") == "FI"
    n_fi = len(public_holidays("FI", 2019))
    assert any(n.startswith(f"Public holidays: Finland (FI), {n_fi} days in 2019")
               for n in rep.notes)
    # the nearest bundled weather is Rostock's; its distance, measured here on the ellipsoid
    _, meta = read_dwd_try(bundled_try_path(2))
    km = Geod(ellps="WGS84").inv(d.site.longitude_deg, d.site.latitude_deg,
                                 meta["longitude_deg"], meta["latitude_deg"])[2] / 1000
    shown = int(rep.weather_source.split("(Rostock), ")[1].split(" km")[0].replace(",", ""))
    assert abs(shown - km) < 0.005 * km                # sphere vs ellipsoid: well under 0.5 %
    text = f"{shown:,} km from the district — an estimate; upload a local EPW"
    assert text in rep.weather_source
    assert any(text in line for line in rep.summary_lines())      # the import dialog,
    items = report_view(result, "/").children[1].children         # where it is marked
    marked = [li.children for li in items if li.className == "warn"]
    assert len(marked) == 2 and all(text in m for m in marked)    # Weather: line and note
    assert text in "".join(map(str, credits(d.meta)))               # the app's footer


def test_a_site_at_sea_has_no_holidays_and_says_so(tmp_path):
    result = import_district(small_town(tmp_path, 55.0, 4.0, "north sea"))
    assert result.district.assumptions.text("time.holidays") == ""
    assert any(n.startswith("Public holidays: none found (the site lies in no country's time "
                            "zone: Etc/GMT)") for n in result.report.notes)
    workday = bdew_profiles(2019, TZ, ("G25",), holidays=None)
    np.testing.assert_array_equal(result.district.load_profiles["G25"].to_numpy(),
                                  workday["G25"].to_numpy())


def test_old_district_files_with_cz_or_no_holidays_load(tmp_path):
    d = dc.load_district()
    for code in ("CZ", ""):
        a = d.assumptions.with_values(time__holidays=code)
        path = write_district(dc.District(
            name=d.name, buildings=d.buildings, transformers=d.transformers, lines=d.lines,
            streets=d.streets, weather=d.weather, load_profiles=d.load_profiles, assumptions=a,
            site=d.site, meta=d.meta), tmp_path / f"old{code}.gpkg")
        again = read_district(path)
        assert again.assumptions.text("time.holidays") == code
        profiles = profiles_for(again.assumptions, 2019, again.site.timezone)
        assert (profiles.to_numpy() == d.load_profiles.to_numpy()).all() == (code == "CZ")


# ---- PVGIS --------------------------------------------------------------------------------
def pvgis_answer(weather: pd.DataFrame, offset_h: int) -> bytes:
    """A PVGIS TMY JSON answer (the fields pvlib reads) whose year, rolled back to local time,
    is ``weather``."""
    utc = np.roll(weather[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].to_numpy(float),
                  -offset_h, axis=0)
    stamps = pd.date_range("2019-01-01", periods=8760, freq="h")
    rows = [{"time(UTC)": t.strftime("%Y%m%d:%H%M"), "G(h)": r[0], "Gb(n)": r[1],
             "Gd(h)": r[2], "T2m": r[3], "WS10m": r[4]} for t, r in zip(stamps, utc, strict=True)]
    return json.dumps({"inputs": {"location": {}}, "meta": {"inputs": {}},
                       "outputs": {"months_selected": [], "tmy_hourly": rows}}).encode()


@pytest.fixture
def fake_pvgis(monkeypatch) -> Iterator[dict]:
    """A PVGIS on localhost counting its requests; PVGIS is tried by imports meanwhile."""
    state = {"requests": 0, "body": pvgis_answer(dc.load_district().weather, 1)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state["requests"] += 1
            assert self.path.startswith("/api/tmy?")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state["body"])))
            self.end_headers()
            self.wfile.write(state["body"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DECENTRA_PVGIS_URL", f"http://127.0.0.1:{server.server_port}/api/")
    monkeypatch.setattr(import_weather, "_pvgis_down_until", [0.0])
    yield state
    server.shutdown()
    server.server_close()


def test_pvgis_is_tried_first_and_cached(tmp_path, fake_pvgis):
    path = tmp_path / "b.geojson"
    path.write_text(bubenec_footprints(12).to_json(), encoding="utf-8")
    first = import_district(path, cache_dir=tmp_path / "cache")
    assert fake_pvgis["requests"] == 1
    assert first.report.weather_source.startswith("PVGIS typical meteorological year")
    # PVGIS's UTC hours are rolled back onto the district's clock (UTC+1 at 14.4° E)
    ref = dc.load_district().weather
    for col in ("ghi", "dhi", "temp_air"):
        np.testing.assert_allclose(first.district.weather[col].to_numpy(),
                                   ref[col].to_numpy(), atol=1e-9)
    site = first.district.site                           # keyed by latitude, longitude (2 dp)
    assert [p.name for p in (tmp_path / "cache" / "pvgis").iterdir()] == [
        f"pvgis_{round(site.latitude_deg, 2):.3f}_{round(site.longitude_deg, 2):.3f}.csv"]
    second = import_district(path, cache_dir=tmp_path / "cache")
    assert fake_pvgis["requests"] == 1                   # the cache answered
    assert any("PVGIS (cached)" in n for n in second.report.notes)
    assert second.district.content_hash == first.district.content_hash


def _weather_seconds(tmp_path: Path, lat: float = 50.1, lon: float = 14.4) -> tuple[float,
                                                                                    Notes, str]:
    notes = Notes()
    t0 = time.perf_counter()
    _, _, source = import_weather.site_weather(None, lat, lon, 2019, notes, tmp_path, Limits())
    return time.perf_counter() - t0, notes, source


def test_offline_pvgis_falls_back_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(import_weather, "_pvgis_down_until", [0.0])
    monkeypatch.setenv("DECENTRA_PVGIS_URL", "http://127.0.0.1:9/api/")   # nothing listens
    seconds, notes, source = _weather_seconds(tmp_path)
    assert "DWD TRY2010 region 9 (Chemnitz)" in source
    assert any(n.startswith("PVGIS not used: PVGIS could not be reached") for n in notes.items)
    assert seconds < 2.0
    # the failure is remembered: the next import does not try again
    seconds, notes, _ = _weather_seconds(tmp_path)
    assert any("not tried again" in n for n in notes.items) and seconds < 1.0


def test_a_silent_pvgis_cannot_hold_the_import(tmp_path, monkeypatch):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)                                   # accepts, never answers
    try:
        monkeypatch.setattr(import_weather, "_pvgis_down_until", [0.0])
        monkeypatch.setattr(import_weather, "PVGIS_DEADLINE_S", 0.5)
        monkeypatch.setenv("DECENTRA_PVGIS_URL",
                           f"http://127.0.0.1:{listener.getsockname()[1]}/api/")
        seconds, notes, source = _weather_seconds(tmp_path)
        assert "Chemnitz" in source and 0.5 <= seconds < 2.0
        assert any("no answer within" in n or "Timeout" in n for n in notes.items)
    finally:
        listener.close()
