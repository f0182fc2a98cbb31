"""Measured meter data: buildings with a CSV series get exactly that demand, hour by hour;
every bad file is one line and no district."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import dashboard as dc
from dashboard.cli import main
from dashboard.domain.errors import DecentraError
from dashboard.importer import import_district
from dashboard.io.district_gpkg import read_district, write_district
from dashboard.io.formats import Limits
from dashboard.io.timeseries import describe_measured_csv, read_measured_csv
from tests.importfiles import bubenec_footprints

MEASURED = ("B001", "B004", "B009")


@pytest.fixture(scope="module")
def footprints(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("meters")
    frame: gpd.GeoDataFrame = bubenec_footprints(12)
    path = folder / "houses.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def plain(footprints) -> dc.District:
    """The same footprints imported without meter data."""
    return import_district(footprints).district


def known_series(hours: int) -> dict[str, np.ndarray]:
    """Three different known curves [kW]: a constant plus a daily / weekly / yearly sine."""
    h = np.arange(hours, dtype=float)
    return {MEASURED[0]: 4.0 + 2.5 * np.sin(2 * np.pi * h / 24),
            MEASURED[1]: 12.0 + 3.0 * np.sin(2 * np.pi * h / 168 + 1.0),
            MEASURED[2]: 0.75 + 0.5 * np.sin(2 * np.pi * h / 8760) ** 2}


def write_csv(path: Path, stamps: list[str] | pd.Index, columns: dict[str, object]) -> Path:
    frame = pd.DataFrame({"timestamp": list(stamps), **columns})
    frame.to_csv(path, index=False)
    return path


def hourly_stamps(year: int, fmt: str = "%Y-%m-%dT%H:%M") -> pd.Index:
    hours = pd.date_range(f"{year}-01-01", f"{year}-12-31 23:00", freq="h")
    return pd.Index(hours.strftime(fmt))


def demand(result, building_id: str) -> np.ndarray:
    return result.hourly(building_id)["demand"].to_numpy(float)


# ---- measured buildings use their series ------------------------------------------------
def test_measured_buildings_get_their_series_hour_by_hour(tmp_path, footprints, plain):
    series = known_series(8760)
    csv = write_csv(tmp_path / "loads.csv", hourly_stamps(2023), series)
    result = import_district(footprints, meter_data=csv)
    d = result.district
    b = d.buildings.set_index("building_id")
    for bid, kw in series.items():
        # hourly kW averages over 1 h are kWh: the annual energy is their plain sum
        assert b.loc[bid, "annual_demand_kwh"] == pytest.approx(kw.sum(), rel=1e-12)
        assert b.loc[bid, "load_profile"] == f"meter:{bid}"
        assert not b.loc[bid, "demand_assumed"]
    others = [i for i in b.index if i not in MEASURED]
    assert (b.loc[others, "load_profile"] == "").all() and b.loc[others, "demand_assumed"].all()
    assert result.report.assumed["annual_demand_kwh"] == 12 - 3
    assert any("Meter data (loads.csv): 3 buildings" in n and "2023, hourly" in n
               and "reference year 2019" in n for n in result.report.notes)

    res = dc.evaluate(d, dc.Scenario(name="baseline"))
    base = dc.evaluate(plain, dc.Scenario(name="baseline"))
    for bid, kw in series.items():
        np.testing.assert_allclose(demand(res, bid), kw, rtol=2e-6)
    for bid in others:            # unmeasured buildings: exactly as without meter data
        np.testing.assert_allclose(demand(res, bid), demand(base, bid), rtol=1e-12)
    # the district file keeps the measured profiles
    again = read_district(write_district(d, tmp_path / "d.gpkg"))
    assert again.content_hash == d.content_hash
    np.testing.assert_allclose(demand(dc.evaluate(again, dc.Scenario(name="b")), MEASURED[1]),
                               series[MEASURED[1]], rtol=2e-6)


def test_quarter_hours_are_averaged_and_utc_offsets_converted(tmp_path, footprints):
    hourly = known_series(8760)
    # four quarter-hour values around each hour's value: their mean is that value exactly
    around = np.array([-0.3, -0.1, 0.1, 0.3])
    quarter = {bid: (kw[:, None] + around[None, :]).ravel() for bid, kw in hourly.items()}
    local = pd.date_range("2023-01-01", periods=8760 * 4, freq="15min")
    csv = write_csv(tmp_path / "q.csv", local.strftime("%Y-%m-%d %H:%M"), quarter)
    d = import_district(footprints, meter_data=csv).district
    res = dc.evaluate(d, dc.Scenario(name="q"))
    for bid, kw in hourly.items():
        np.testing.assert_allclose(demand(res, bid), kw, rtol=2e-6)

    # the same instants written in UTC: converted to the district's clock (UTC+1), same hours
    offset = d.weather.index[0].utcoffset()
    assert offset == pd.Timedelta(hours=1)
    utc = (local - offset).strftime("%Y-%m-%dT%H:%MZ")
    same = import_district(footprints, meter_data=write_csv(tmp_path / "utc.csv", utc, quarter))
    np.testing.assert_array_equal(same.district.load_profiles.to_numpy(),
                                  d.load_profiles.to_numpy())
    # a calendar year in UTC ends an hour into the district's next year: that hour wraps
    # around to the first hour, everything else moves one hour later
    year_utc = pd.date_range("2023-01-01", periods=8760 * 4, freq="15min")
    wrapped = import_district(footprints, meter_data=write_csv(
        tmp_path / "utc_year.csv", year_utc.strftime("%Y-%m-%dT%H:%M:%S+00:00"), quarter))
    res = dc.evaluate(wrapped.district, dc.Scenario(name="w"))
    kw = hourly[MEASURED[0]]
    np.testing.assert_allclose(demand(res, MEASURED[0]), np.r_[kw[-1], kw[:-1]], rtol=2e-6)
    assert any("1 h moved across the turn of the year" in n for n in wrapped.report.notes)


def test_leap_year_drops_29_february(tmp_path, footprints):
    hours = pd.date_range("2024-01-01", "2024-12-31 23:00", freq="h")
    assert len(hours) == 8784
    # a value that names its hour: day of year x 100 + hour
    value = (hours.dayofyear * 100 + hours.hour).to_numpy(float)
    csv = write_csv(tmp_path / "leap.csv", hours.strftime("%Y-%m-%dT%H:%M"),
                    {MEASURED[0]: value})
    result = import_district(footprints, meter_data=csv)
    got = demand(dc.evaluate(result.district, dc.Scenario(name="l")), MEASURED[0])
    assert len(got) == 8760
    feb28_23 = (31 + 27) * 24 + 23            # hour index of 28 February 23:00
    assert got[feb28_23] == pytest.approx(59 * 100 + 23, rel=1e-6)    # day 59 = 28 Feb
    assert got[feb28_23 + 1] == pytest.approx(61 * 100 + 0, rel=1e-6)  # day 61 = 1 Mar 2024
    assert got[-1] == pytest.approx(366 * 100 + 23, rel=1e-6)
    assert any("29 February dropped" in n for n in result.report.notes)


# ---- bad files: one line, exit 2, nothing written ---------------------------------------
def bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Each bad file with what its message must say (the problem and the first place)."""
    stamps = hourly_stamps(2023)
    good = known_series(8760)
    one = {MEASURED[0]: good[MEASURED[0]]}
    cases: dict[str, tuple[Path, str]] = {}

    def case(name: str, match: str, stamps_: object, cols: dict) -> None:
        cases[name] = (write_csv(folder / f"{name}.csv", stamps_, cols), match)

    gone = stamps.get_loc("2023-03-05T11:00")
    case("gap", rf"gap\.csv: meter data: a gap or uneven step: 2023-03-05 10:00 is followed by "
         rf"2023-03-05 12:00 .* First offending: row {gone + 2}\.", stamps.delete(gone),
         {MEASURED[0]: np.ones(8759)})
    dup = stamps.tolist()
    dup[100] = dup[99]
    case("duplicate", r"timestamps appear twice \(first: 2023-01-05 03:00\).*row 102", dup, one)
    neg = good[MEASURED[1]].copy()
    neg[[7, 40]] = -1.5
    case("negative", r"negative values .* -1\.5 kW in column 'B004'.*row 9, row 42", stamps,
         {MEASURED[1]: neg})
    case("unknown", r"2 columns are not building ids .* First offending: NOPE, B999\.",
         stamps, {**one, "NOPE": np.ones(8760), "B999": np.ones(8760)})
    case("short", r"8,000 hourly rows from 2023-01-01 00:00 to .* needs 8,760", stamps[:8000],
         {MEASURED[0]: np.ones(8000)})
    two = pd.date_range("2022-07-01", periods=8760, freq="h").strftime("%Y-%m-%dT%H:%M")
    case("two_years", r"span 2 calendar years \(2022 to 2023\); give one calendar year", two,
         one)
    text = good[MEASURED[0]].astype(str).astype(object)
    text[3] = "n/a"
    case("text", r"not finite numbers .* 'n/a' in column 'B001'.*row 5", stamps,
         {MEASURED[0]: text})
    huge = np.ones(8760)
    huge[10] = 1e9
    case("huge", r"'highest value' \(average power of one building\) of 1e\+09 kW "
         r"is impossible.*B001", stamps, {MEASURED[0]: huge})
    blank = good[MEASURED[0]].astype(object)
    blank[20] = ""
    case("blank", r"missing values \(empty cells\), first in column 'B001'.*row 22", stamps,
         {MEASURED[0]: blank})
    infinite = good[MEASURED[0]].astype(str).astype(object)
    infinite[0] = "inf"
    case("inf", r"not finite numbers .* 'inf'", stamps, {MEASURED[0]: infinite})
    case("no_timestamp", r"no 'timestamp' column", stamps, one)
    (folder / "no_timestamp.csv").write_text(
        (folder / "no_timestamp.csv").read_text().replace("timestamp", "time", 1))
    case("latin1", r"not UTF-8 text", stamps, one)
    (folder / "latin1.csv").write_bytes(
        "timestamp,B001\n2023-01-01T00:00,1,5 \xe9\n".encode("latin-1"))
    case("not_a_date", r"not ISO 8601 .* 'yesterday'.*row 3", ["2023-01-01T00:00", "yesterday"],
         {MEASURED[0]: [1.0, 2.0]})
    return cases


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    return bad_files(tmp_path_factory.mktemp("bad_meters"))


@pytest.mark.parametrize("name", ["gap", "duplicate", "negative", "unknown", "short",
                                  "two_years", "text", "huge", "blank", "inf", "no_timestamp",
                                  "latin1", "not_a_date"])
def test_bad_meter_files_are_one_line_and_no_district(tmp_path, footprints, bad, name, capsys):
    path, match = bad[name]
    out = tmp_path / "out.gpkg"
    status = main(["import", str(footprints), "--meter-data", str(path), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"error: {path.name}: meter data: ")
    assert re.search(match, err), err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_process_refuses_a_bad_file_and_imports_a_good_one(tmp_path, footprints, bad):
    out = tmp_path / "out.gpkg"
    path, _ = bad["gap"]
    proc = subprocess.run([sys.executable, "-m", "dashboard", "import", str(footprints),
                           "--meter-data", str(path), "-o", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "gap.csv: meter data: a gap" in proc.stderr
    good = write_csv(tmp_path / "ok.csv", hourly_stamps(2023), known_series(8760))
    proc = subprocess.run([sys.executable, "-m", "dashboard", "import", str(footprints),
                           "--meter-data", str(good), "-o", str(out)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Meter data (ok.csv): 3 buildings" in proc.stdout
    d = read_district(out)
    assert (d.buildings["load_profile"] != "").sum() == 3


def test_reader_guards(tmp_path):
    stamps = hourly_stamps(2023)
    wide = write_csv(tmp_path / "wide.csv", stamps[:2], {f"B{i:03d}": [1.0, 1.0]
                                                          for i in range(1, 10)})
    with pytest.raises(DecentraError, match=r"10 columns; at most 5 buildings"):
        read_measured_csv(wide, [], 2019, "Etc/GMT-1", limits=Limits(max_buildings=5))
    with pytest.raises(DecentraError, match=r"limit is 0 MB"):
        read_measured_csv(wide, [], 2019, "Etc/GMT-1", limits=Limits(max_file_bytes=10))
    many = tmp_path / "many.csv"
    many.write_text("timestamp,B001\n" + "2023-01-01T00:00,1\n" * 40_000)
    with pytest.raises(DecentraError, match=r"many\.csv: meter data: more than 35,236 rows"):
        read_measured_csv(many, ["B001"], 2019, "Etc/GMT-1")
    ok = write_csv(tmp_path / "ok.csv", stamps, known_series(8760))
    assert describe_measured_csv(ok) == "3 buildings, 8,760 rows"
    # semicolons (European spreadsheets) read the same
    semi = tmp_path / "semi.csv"
    semi.write_text(ok.read_text().replace(",", ";"))
    a = read_measured_csv(ok, MEASURED, 2019, "Etc/GMT-1").kw
    b = read_measured_csv(semi, MEASURED, 2019, "Etc/GMT-1").kw
    pd.testing.assert_frame_equal(a, b)
    assert a.index[0] == pd.Timestamp("2019-01-01 00:00", tz="Etc/GMT-1")


# ---- measured output of existing PV -----------------------------------------------------
def pv_curve(peak_kw: float, shift_h: int = 0) -> np.ndarray:
    """A clear-day-like curve: a half sine from 06:00 to 18:00, peak ``peak_kw``."""
    h = (np.arange(8760) - shift_h) % 24
    return np.clip(np.sin(np.pi * (h - 6) / 12), 0.0, None) * peak_kw


def test_measured_pv_output_is_used_for_existing_systems(tmp_path):
    frame = bubenec_footprints(12)
    frame["pv_kwp"] = [6.0] + [0.0] * 11            # B001 has a known system of 6 kWp
    frame["pv_tilt_deg"] = 25.0
    frame["pv_azimuth_deg"] = 200.0
    src = tmp_path / "with_pv.geojson"
    src.write_text(frame.to_json(), encoding="utf-8")
    measured = {"B001": pv_curve(4.5), "B005": pv_curve(7.0, shift_h=1)}
    csv = write_csv(tmp_path / "pv.csv", hourly_stamps(2022), measured)
    result = import_district(src, pv_data=csv)
    d, scen = result.district, result.scenario
    placed = {p.building_id: p for p in scen.pv}
    assert placed["B001"].kwp == 6.0 and placed["B001"].tilt_deg == 25.0
    b = d.buildings.set_index("building_id")
    assert b.loc["B001", "pv_profile"] == "pvmeter:B001"
    assert (b.drop(index=["B001", "B005"])["pv_profile"] == "").all()
    # the imported systems produce the measured series, hour by hour
    res = dc.evaluate(d, scen)
    for bid, kw in measured.items():
        np.testing.assert_allclose(res.hourly(bid)["pv"].to_numpy(), kw, rtol=2e-6, atol=1e-6)
    # B005 had no pv_kwp: sized so that the modelled yield of its roof gives the measured
    # energy; the engine's modelled yield of that orientation on another building checks it
    p5 = placed["B005"]
    probe = dc.Scenario(name="probe").with_pv(dc.PvPlacement("B007", 1.0, p5.tilt_deg,
                                                            p5.azimuth_deg))
    yield_kwh_per_kwp = dc.evaluate(d, probe).hourly("B007")["pv"].sum()
    assert p5.kwp == pytest.approx(measured["B005"].sum() / yield_kwh_per_kwp, abs=2e-3)
    assert any("PV output (pv.csv): 2 existing systems" in n and "1 sized from" in n
               for n in result.report.notes)
    # a larger system on the same roof scales the measured shape
    bigger = scen.with_pv(dc.PvPlacement("B001", 9.0, 25.0, 200.0))
    np.testing.assert_allclose(dc.evaluate(d, bigger).hourly("B001")["pv"].to_numpy(),
                               measured["B001"] * 1.5, rtol=2e-6, atol=1e-6)
    # the district file keeps the measured output
    again = read_district(write_district(d, tmp_path / "pv.gpkg"))
    assert again.content_hash == d.content_hash and again.pv_profiles is not None
    np.testing.assert_allclose(dc.evaluate(again, scen).hourly("B005")["pv"].to_numpy(),
                               measured["B005"], rtol=2e-6, atol=1e-6)


def test_impossible_pv_output_is_refused(tmp_path, footprints, capsys):
    frame = bubenec_footprints(12)
    frame["pv_kwp"] = [5.0] + [0.0] * 11
    src = tmp_path / "small.geojson"
    src.write_text(frame.to_json(), encoding="utf-8")
    # 5 kWp delivering 4 kW around the clock: 7,008 kWh per kWp and year
    csv = write_csv(tmp_path / "pv_bad.csv", hourly_stamps(2023), {"B001": np.full(8760, 4.0)})
    with pytest.raises(DecentraError, match=r"pv_bad\.csv: PV output: 'measured output per "
                       r"kWp' \(PV yield\) of 7,008 kWh/kWp a is impossible.*B001"):
        import_district(src, pv_data=csv)
    out = tmp_path / "o.gpkg"
    gap = write_csv(tmp_path / "pv_gap.csv", hourly_stamps(2023).delete(5),
                    {"B001": np.ones(8759)})
    assert main(["import", str(src), "--pv-data", str(gap), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: pv_gap.csv: PV output: a gap") and err.count("\n") == 1
    assert not out.exists()


def test_hostile_csv_shapes(tmp_path):
    stamps = hourly_stamps(2023)
    ok = write_csv(tmp_path / "ok.csv", stamps, {"B001": np.ones(8760)})
    spaced = tmp_path / "spaced.csv"      # spaces around names and values read the same
    spaced.write_text(ok.read_text().replace("timestamp,B001", "timestamp , B001 ")
                      .replace(",1.0", ", 1.0 "))
    got = read_measured_csv(spaced, ["B001"], 2019, "Etc/GMT-1").kw["B001"]
    assert got.sum() == 8760.0
    cases = {"header_only": ("timestamp,B001\n", r"no rows below the header"),
             "extra_field": ("timestamp,B001\n2023-01-01T00:00,1,2\n", r"not a readable CSV"),
             "overflow": (ok.read_text().replace(",1.0\n", ",1e400\n", 1),
                          r"not finite .* '1e400' in column 'B001'. First offending: row 2\."),
             "nul": ("timestamp,B001\x00\n", r"NUL bytes"),
             "empty_id": ("timestamp,\n2023-01-01T00:00,1\n", r"not building ids")}
    for name, (text, match) in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        with pytest.raises(DecentraError, match=rf"{name}\.csv: meter data: .*{match}"):
            read_measured_csv(path, ["B001"], 2019, "Etc/GMT-1")
