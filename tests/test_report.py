"""The council report: its executive summary's numbers equal independent computations, a grid
study is "verified" only for its own scenario, user text stays text, and hostile logos are
refused with one message each."""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import BatteryPlacement, CommunityBattery
from dashboard.engine import district_model
from dashboard.export.council import ReportOptions, verified_study
from dashboard.export.logo import MAX_SIDE_PX, sanitize_logo
from dashboard.export.report import report_html, report_pdf


class Tables(HTMLParser):
    """Every <table> of a document as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.tables:
            self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(doc: str) -> list[list[list[str]]]:
    p = Tables()
    p.feed(doc)
    return p.tables


def table_with(doc: str, header: str) -> list[list[str]]:
    return next(t for t in tables(doc) if t and t[0] and t[0][0] == header)


@pytest.fixture(scope="module")
def case(district):
    s = dc.place_pv_by_rule(district, dc.Scenario(name="Recommended mix"), min_roof_m2=250,
                            coverage=0.6)
    s = s.with_battery(*[BatteryPlacement(p.building_id, 12, 6) for p in s.pv[::4]])
    s = s.with_community_battery(CommunityBattery("T02", 150, 60))
    alt = dc.place_pv_by_rule(district, dc.Scenario(name="Every roof"), min_roof_m2=50,
                              coverage=0.4)
    return (district, dc.evaluate(district, s), dc.evaluate(district, alt),
            dc.baseline(district))


@pytest.fixture(scope="module")
def study(case):
    district, result, _, _ = case
    return dc.grid_study(district, result.scenario)


def euros(text: str) -> float:
    return float(text.replace(",", ""))


def test_summary_numbers_equal_independent_computations(case):
    district, result, alt, base = case
    doc = report_html(district, result, base, alternatives=[alt], study_of=lambda d, s: None)
    table = {r[0]: r[1:] for r in table_with(doc, "Indicator")}
    assert table["Indicator"][0].startswith("Recommended mix") and table["Indicator"][1] \
        == "Every roof"
    # investment: every placement priced by hand from the assumptions' classes and prices
    p = district_model(district).econ
    bounds, prices = p.pv_class_max_kwp, p.pv_capex_eur_per_kwp
    capex = 0.0
    for pv in result.scenario.pv:
        capex += pv.kwp * prices[sum(pv.kwp > b for b in bounds)]
    for bat in result.scenario.batteries:
        capex += bat.capacity_kwh * p.battery_eur_per_kwh + bat.power_kw * p.battery_eur_per_kw
    community = sum(c.capacity_kwh * p.community_battery_eur_per_kwh
                    + c.power_kw * p.community_battery_eur_per_kw
                    for c in result.scenario.community_batteries)
    capex += community
    assert euros(table["Investment [EUR]"][0]) == pytest.approx(capex, abs=0.5)
    # self-sufficiency from the district's hourly net load: (ΣD − ΣI) / ΣD
    demand = float(result.buildings["demand_kwh"].sum())
    imports = float(np.clip(result.district_net_kw, 0, None).sum())
    assert float(table["Self-sufficiency [%]"][0]) == pytest.approx(
        100 * (demand - imports) / demand, abs=0.051)
    assert float(table["Self-sufficiency [%]"][1]) == pytest.approx(
        100 * alt.summary["self_sufficiency"], abs=0.051)
    assert euros(table["Peak export [kW]"][0]) == pytest.approx(
        max(-result.district_net_kw.min(), 0), abs=0.5)
    # the placements table: one row per building with PV or a battery, costs adding up
    placed = table_with(doc, "Building")
    rows = [r for r in placed[1:] if len(r) == 7]
    with_der = {b.building_id for b in result.scenario.pv} | {
        b.building_id for b in result.scenario.batteries}
    assert len(rows) == min(len(with_der), 60)
    assert f"and {len(with_der) - 60} more buildings" in placed[-1][0]
    comm = table_with(doc, "Transformer")
    assert comm[1][0] == "T02" and euros(comm[1][3]) == pytest.approx(community, abs=0.5)
    one = result.scenario.pv[0]
    row = next(r for r in rows if r[0] == one.building_id)
    assert float(row[3]) == pytest.approx(one.kwp, abs=0.051)


def test_not_verified_without_a_study_of_that_scenario(case, study):
    district, result, alt, base = case
    # no study at all, and a study of another scenario: both "not verified"
    for lookup in (lambda d, s: None, lambda d, s: study if s is alt.scenario else None):
        doc = report_html(district, result, base, alternatives=[alt], study_of=lookup)
        text = " ".join(re.sub(r"<[^>]+>", " ", doc).split())
        assert "not verified" in text and "Estimate, not verified by a power flow" in text
        assert "Verified by" not in text and "verified power flow" not in text
        assert "(power flow)" not in table_with(doc, "Indicator")[-1][1]
    # a lookup that hands back a foreign study for every scenario is caught by its hashes
    assert verified_study(district, alt.scenario, study) is None
    doc = report_html(district, alt, base, study_of=lambda d, s: study)
    assert "Verified by" not in doc and "estimate, not verified" in doc


def test_verified_limits_equal_the_grid_study(case, study):
    district, result, alt, base = case
    doc = report_html(district, result, base, alternatives=[alt],
                      study_of=lambda d, s: study if s == result.scenario else None)
    assert "Verified by a full-year AC power flow" in doc
    grid = table_with(doc, "Indicator")[-1]
    assert grid[1] == f"{len(study.violations)} (power flow)" and grid[2].endswith("(estimate)")
    pf_table = next(t for t in tables(doc) if t[0][1:2] == ["Voltage min [pu]"])
    pf = {r[0]: r for r in pf_table[1:]}
    for tid, r in study.transformers.iterrows():
        row = pf[tid]
        assert float(row[1]) == pytest.approx(r["vm_min_pu"], abs=5e-4)
        assert float(row[2]) == pytest.approx(r["vm_max_pu"], abs=5e-4)
        assert euros(row[3]) == r["overvoltage_hours"]
        assert euros(row[5]) == pytest.approx(r["line_loading_max_pct"], abs=0.5)
        assert euros(row[6]) == pytest.approx(r["trafo_loading_max_pct"], abs=0.5)
        assert euros(row[8]) == pytest.approx(r["hosting_capacity_kwp"], abs=0.5)
    assert f"{study.summary['vm_max_pu']:.3f} pu" in doc
    assert doc.count('class="map"') >= 3          # placement, voltage and loading maps


def test_user_text_stays_text(case):
    district, result, _, base = case
    evil = result.scenario.renamed("<script>alert(1)</script>")
    r = dc.evaluate(district, evil)
    doc = report_html(district, r, base, options=ReportOptions(
        question="Why <b>not</b>? <img src=x onerror=alert(2)>",
        consultant="<iframe src=//evil>"), study_of=lambda d, s: None)
    assert "<script>alert" not in doc and "<img src=x" not in doc and "<iframe" not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert "&lt;iframe src=//evil&gt;" in doc and "Why &lt;b&gt;not&lt;/b&gt;?" in doc
    with pytest.raises(DecentraError, match="at most 120"):
        ReportOptions(consultant="x" * 121)


def png_bytes(w=40, h=20, mode="RGB", **info) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h), (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(
        buf, "PNG", **info)
    return buf.getvalue()


def png_header_only(w: int, h: int) -> bytes:
    """A PNG whose header declares w x h pixels (a decompression bomb's first bytes)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(
            ">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 110)).save(buf, "JPEG")
    return buf.getvalue()


HOSTILE = {
    "zero bytes": b"",
    "truncated PNG": png_bytes(400, 300)[:120],
    "huge dimensions": png_header_only(60_000, 60_000),
    "too many pixels": png_header_only(6000, 5000),
    "svg with script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
                       b"</svg>",
    "html renamed .png": b"<!doctype html><script>alert(1)</script>",
    "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\n",
    "png magic then garbage": b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
    "jpeg magic then garbage": b"\xff\xd8\xff\xe0" + b"garbage" * 50,
    "truncated JPEG": jpeg_bytes()[:300],
    "too large a file": b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 2**20),
    "zip with png name": b"PK\x03\x04" + b"\x00" * 100,
    "zero-width PNG header": png_header_only(0, 10),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_logo_gives_one_message(kind):
    with pytest.raises(DecentraError) as err:
        sanitize_logo(HOSTILE[kind], "logo.png")
    msg = str(err.value)
    assert msg.count("the logo cannot be used") == 1 and "logo.png" in msg
    assert "PNG or JPEG" in msg and "Traceback" not in msg


def test_good_logo_is_reencoded_bounded_and_stripped():
    secret = png_bytes(1600, 400, pnginfo=None)
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "SECRET-PAYLOAD<script>")
    buf = io.BytesIO()
    Image.new("RGBA", (1600, 400), (0, 100, 100, 200)).save(buf, "PNG", pnginfo=info)
    out = sanitize_logo(buf.getvalue())
    img = Image.open(io.BytesIO(out))
    assert img.format == "PNG" and max(img.size) == MAX_SIDE_PX and img.size == (600, 150)
    assert b"SECRET-PAYLOAD" not in out and img.mode == "RGBA"
    assert out != secret
    jpg = Image.open(io.BytesIO(sanitize_logo(jpeg_bytes())))
    assert jpg.format == "PNG" and jpg.size == (64, 64)


def test_pdf_has_summary_consultant_and_logo(case):
    district, result, alt, base = case
    buf = io.BytesIO()
    Image.new("RGB", (300, 100), (15, 118, 110)).save(buf, "PNG")
    opts = ReportOptions(consultant="Stadtwerk Beratung Nord", question="Which option?",
                         logo_png=sanitize_logo(buf.getvalue()))
    pdf = PdfReader(io.BytesIO(report_pdf(district, result, base, alternatives=[alt],
                                          options=opts, study_of=lambda d, s: None)))
    first = " ".join(pdf.pages[0].extract_text().split())
    for expected in ("executive summary", "Which option?", "Stadtwerk Beratung Nord",
                     "Recommended mix", "Every roof", "Investment [EUR]",
                     "What the grid needs", "estimate, not verified"):
        assert expected.lower() in first.lower(), expected
    assert len(list(pdf.pages[0].images)) == 1              # the logo, re-encoded
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert "What is placed where" in text and "Community batteries" in text
    assert "Critical facilities" in text and "Assumptions" in text


def test_cli_report(tmp_path, case):
    _, result, alt, _ = case
    rec, other = tmp_path / "rec.json", tmp_path / "alt.json"
    rec.write_text(result.scenario.to_json())
    other.write_text(alt.scenario.to_json())
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes(200, 80))
    out = tmp_path / "report.html"
    run = subprocess.run([sys.executable, "-m", "dashboard", "report", "--scenario", str(rec),
                          "--compare", str(other), "--consultant", "Ingenieurbüro Süd",
                          "--logo", str(logo), "--html", "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    doc = out.read_text(encoding="utf-8")
    assert "Ingenieurbüro Süd" in doc and "data:image/png;base64," in doc
    assert "Every roof" in table_with(doc, "Indicator")[0][2]
    bad = tmp_path / "evil.png"
    bad.write_bytes(HOSTILE["svg with script"])
    run = subprocess.run([sys.executable, "-m", "dashboard", "report", "--scenario", str(rec),
                          "--logo", str(bad), "-o", str(tmp_path / "x.pdf")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("the logo cannot be used") == 1


def test_cli_report_with_the_power_flow_is_verified(tmp_path, case, capsys):
    """--power-flow runs the study and the report shows it as verified (the study used to be
    stored in a cache the CLI does not have, and the report said "estimate")."""
    from dashboard.cli import main

    _, result, _, _ = case
    rec = tmp_path / "rec.json"
    rec.write_text(result.scenario.to_json())
    out = tmp_path / "verified.html"
    assert main(["report", "--scenario", str(rec), "--power-flow", "--html",
                 "-o", str(out)]) == 0
    doc = out.read_text(encoding="utf-8")
    assert "Verified by a full-year AC power flow" in doc
    assert "Estimate, not verified" not in doc
