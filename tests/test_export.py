"""Every export produces a valid file that reads back (images decode, PDFs have pages, GIS files
reopen with the same rows, the HTML map renders from file:// with no network)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

import dashboard as dc
from dashboard.domain.scenario import BatteryPlacement
from dashboard.export.registry import export_bytes


@pytest.fixture(scope="module")
def case(district):
    s = dc.place_pv_by_rule(district, dc.Scenario(name="Export test scenario"),
                            min_roof_m2=250, coverage=0.6)
    s = s.with_battery(*[BatteryPlacement(p.building_id, 12, 6) for p in s.pv[::4]])
    return district, dc.evaluate(district, s), dc.baseline(district)


def test_map_png_svg_pdf(case):
    district, result, base = case
    png = export_bytes(district, result, base, "png", width=1200, height=800)
    img = Image.open(io.BytesIO(png))
    img.verify()
    assert Image.open(io.BytesIO(png)).size == (1200, 800)
    pixels = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(pixels) > 50                   # a drawn map, not a blank page
    svg = export_bytes(district, result, base, "svg", width=1000, height=700)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    # vector, print quality: every footprint is a path, nothing is a bitmap
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert len(paths) > district.n_buildings
    assert root.findall(".//{http://www.w3.org/2000/svg}image") == []
    pdf = export_bytes(district, result, base, "pdf")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert list(reader.pages[0].images) == []
    assert "Bubeneč, Prague" in reader.pages[0].extract_text()


def test_maps_credit_the_district_own_sources(case):
    from dashboard.export.report import data_sources
    from dashboard.figures.static import credit_line

    district, _, _ = case
    assert "OpenStreetMap" in credit_line(district)
    rows = dict((w, (src, lic)) for w, src, lic in data_sources(district))
    assert "ODbL" in rows["Building footprints"][1]
    assert "Deutscher Wetterdienst" in rows["Weather (hourly, typical year)"][1]
    # a city's own survey data with an EPW file: credited as supplied, no OSM or DWD claims
    meta = dict(district.meta, buildings_source="stadt_gebaeude.gpkg (layer houses)",
                weather_source="EPW Praha-Ruzyne (site.epw)",
                network_source="pandapower network grid.json (3 transformers)")
    own = dc.District(name="Own", buildings=district.buildings,
                      transformers=district.transformers, lines=district.lines,
                      streets=district.streets, weather=district.weather,
                      load_profiles=district.load_profiles,
                      assumptions=district.assumptions, site=district.site, meta=meta)
    assert "OpenStreetMap" not in credit_line(own) and "stadt_gebaeude" in credit_line(own)
    rows = dict((w, (src, lic)) for w, src, lic in data_sources(own))
    assert "as supplied" in rows["Building footprints"][1]
    assert "as supplied" in rows["Weather (hourly, typical year)"][1]
    assert "as supplied" in rows["Low-voltage network"][1]


def test_gis_files_read_back(case, tmp_path):
    district, result, base = case
    gpkg = tmp_path / "x.gpkg"
    gpkg.write_bytes(export_bytes(district, result, base, "gpkg"))
    b = gpd.read_file(gpkg, layer="buildings")
    assert len(b) == district.n_buildings and b.crs.to_epsg() == 4326
    assert set(b["building_id"]) == set(district.buildings["building_id"])
    assert b["pv_kwp"].sum() == pytest.approx(result.summary["pv_kwp"], rel=1e-9)
    assert b.set_index("building_id").loc[result.scenario.pv[0].building_id, "pv_kwp"] > 0
    t = gpd.read_file(gpkg, layer="transformers")
    assert len(t) == len(district.transformers)
    assert len(gpd.read_file(gpkg, layer="lines")) == len(district.lines)
    geo = json.loads(export_bytes(district, result, base, "geojson"))
    assert len(geo["features"]) == district.n_buildings
    assert gpd.read_file(io.BytesIO(json.dumps(geo).encode())).crs.to_epsg() == 4326


def test_tables(case):
    district, result, base = case
    table = pd.read_csv(io.BytesIO(export_bytes(district, result, base, "csv")))
    assert len(table) == district.n_buildings and "self_sufficiency" in table
    summary = pd.read_csv(io.BytesIO(export_bytes(district, result, base, "summary-csv")))
    row = summary.set_index("key").loc["self_sufficiency"]
    assert row["value"] == pytest.approx(result.summary["self_sufficiency"], rel=1e-5)
    assert row["baseline"] == 0
    hourly = pd.read_csv(io.BytesIO(export_bytes(district, result, base, "hourly-csv")))
    assert len(hourly) == 8760 * len(district.transformers)
    one = hourly[hourly["transformer_id"] == "T01"]
    assert one["import_kw"].sum() == pytest.approx(
        result.transformers.loc["T01", "import_kwh"], rel=1e-5)


def test_report_pdf(case):
    district, result, base = case
    steps = []
    pdf = export_bytes(district, result, base, "report", progress=lambda f, m: steps.append(f))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 5
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in ("Export test scenario", "Indicators against today", "Transformers",
                     "Assumptions", "ODbL", "Deutscher Wetterdienst",
                     "Residential buildings: critical load fraction",
                     f"of {len(reader.pages)}"):
        assert expected in text
    assert "use.residential" not in text             # readers' labels, not table keys
    assert steps == sorted(steps) and steps[-1] >= 0.9
    # the maps are vector graphics in the PDF
    assert all(list(p.images) == [] for p in reader.pages)


@pytest.mark.e2e
def test_standalone_html_renders_from_disk_without_network(case, tmp_path, browser):
    district, result, base = case
    path = tmp_path / "map.html"
    path.write_bytes(export_bytes(district, result, base, "html"))
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector(".js-plotly-plot .choroplethlocation", timeout=60_000)
    # every footprint is drawn as an SVG path
    drawn = page.eval_on_selector_all(".js-plotly-plot .choroplethlocation", "els => els.length")
    assert drawn == district.n_buildings
    assert [u for u in requests if not u.startswith("file://") and not
            u.startswith("data:")] == []
    assert errors == []
    page.close()


def test_cli_export(tmp_path):
    out = tmp_path / "map.png"
    run = subprocess.run([sys.executable, "-m", "dashboard", "export", "-f", "png", "-o",
                          str(out), "--width", "800", "--height", "600"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert Image.open(out).size == (800, 600)
    bad = subprocess.run([sys.executable, "-m", "dashboard", "export", "-f", "gpkg", "-o",
                          str(tmp_path / "missing-dir" / "x.gpkg")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "cannot write the export" in bad.stderr
