"""The stakeholder report (PDF): what a consultant leaves with a city council.

Pages: title with headline figures; the district before and after (maps); indicators against
the no-DER baseline; outage survival; transformers; assumptions and data sources with their
licences. Built as HTML (figures as PNG from kaleido) and printed to A4 PDF by the system
Chromium (Playwright, no browser download).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import os
from collections.abc import Callable
from pathlib import Path

import plotly.io as pio

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import SUMMARY_INDICATORS, format_value
from dashboard.domain.result import Result
from dashboard.export.images import _chromium, figure_bytes
from dashboard.figures import charts
from dashboard.figures.static import export_geo_map, export_map

Progress = Callable[[float, str], None]

LICENCES = [
    ("Building footprints and streets", "OpenStreetMap contributors via momepy "
     "(bubenec.gpkg)", "ODbL 1.0 (data), BSD-3-Clause (momepy)"),
    ("Weather", "Deutscher Wetterdienst, test reference year TRY2010, via demandlib",
     "DWD terms of use"),
    ("Load profiles", "BDEW standard load profiles 2025, via demandlib", "MIT (demandlib)"),
    ("PV model", "pvlib-python (Perez, SAPM, PVWatts)", "BSD-3-Clause"),
    ("Low-voltage network", "synthesized along the streets by Decentra", "—"),
]

CSS = """
@page { size: A4; margin: 16mm 14mm 16mm 14mm; }
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; color: #1f2933; font-size: 10pt; }
h1 { font-size: 24pt; margin: 0 0 4mm; color: #102a43; }
h2 { font-size: 14pt; color: #0f766e; border-bottom: 1px solid #d9e2ec; padding-bottom: 2mm;
     margin-top: 0; }
.page { page-break-after: always; }
.page:last-child { page-break-after: auto; }
.lead { font-size: 12pt; color: #486581; }
.cards { display: flex; flex-wrap: wrap; gap: 4mm; margin-top: 8mm; }
.card { border: 1px solid #d9e2ec; border-radius: 3mm; padding: 3mm 4mm; width: 52mm;
        background: #f5f7fa; }
.card .k { font-size: 8pt; color: #616e7c; text-transform: uppercase; }
.card .v { font-size: 15pt; font-weight: bold; margin-top: 1mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 1.4mm 2mm; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f4f8; }
td.good { color: #16794c; } td.bad { color: #b42318; }
img { width: 100%; }
.small { font-size: 8pt; color: #616e7c; }
.two img { width: 49%; }
"""


def _png(fig, width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(
        figure_bytes(fig, "png", width, height, scale=2)).decode()


def _delta_class(key: str, value: float, base: float) -> str:
    ind = next(i for i in SUMMARY_INDICATORS if i.key == key)
    if ind.higher_is_better is None or not all(math.isfinite(x) for x in (value, base)) \
            or abs(value - base) < 1e-9:
        return ""
    return "good" if (value > base) == ind.higher_is_better else "bad"


def report_html(district: District, result: Result, baseline: Result,
                progress: Progress | None = None) -> str:
    """The report as one self-contained HTML document."""
    step = progress or (lambda f, m: None)
    e = html.escape
    s, b = result.summary, baseline.summary
    today = dt.date.today().isoformat()
    step(0.1, "Map of the district today")
    before = _png(export_map(district, baseline, title="Today (no PV, no storage)",
                             show_legend=False), 900, 760)
    step(0.35, "Map with the scenario")
    after = _png(export_map(district, result, title=result.scenario.name), 1300, 820)
    step(0.6, "Outage survival")
    curves = {"A building alone (random)": result.survival_curve()}
    t = result.transformers
    worst = t.sort_values("pooled_survival_mean_h").index[0] if len(t) else None
    if worst is not None:
        curves[f"Microgrid {worst} (least resilient)"] = result.survival_curve(
            transformer_id=worst)
    survival = _png(charts.survival_chart(curves, "Outage survival: probability of serving the "
                                                  "critical load for at least d hours"),
                    1200, 520)
    step(0.8, "Tables")
    headline = ["self_sufficiency", "self_consumption", "pv_kwp", "peak_export_kw",
                "survival_mean_h", "p_survive_24h", "capex_eur", "payback_years",
                "co2_avoided_t"]
    labels = {i.key: i.label for i in SUMMARY_INDICATORS}
    cards = "".join(
        f"<div class='card'><div class='k'>{e(labels[k])}</div>"
        f"<div class='v'>{e(format_value(k, s.get(k)))}</div></div>" for k in headline)
    rows = []
    for ind in SUMMARY_INDICATORS:
        v, base = s.get(ind.key, math.nan), b.get(ind.key, math.nan)
        css = _delta_class(ind.key, v, base)
        rows.append(f"<tr><td>{e(ind.label)}</td><td>{e(format_value(ind.key, base))}</td>"
                    f"<td>{e(format_value(ind.key, v))}</td><td class='{css}'>"
                    f"{e(_delta_text(ind.unit, v, base))}</td></tr>")
    t_rows = []
    for tid, r in t.iterrows():
        t_rows.append(
            f"<tr><td>{e(str(tid))}</td><td>{r['rating_kva']:,.0f}</td>"
            f"<td>{int(r['n_buildings'])}</td><td>{r['pv_kwp']:,.0f}</td>"
            f"<td>{100 * r['self_sufficiency']:.1f}</td><td>{r['loading_pct']:.0f}</td>"
            f"<td>{r['reverse_flow_hours']:,.0f}</td><td>{r['hours_above_rating']:,.0f}</td>"
            f"<td>{_num(r['hosting_capacity_kwp'])}</td>"
            f"<td>{r['pooled_survival_mean_h']:.1f}</td></tr>")
    a_rows = "".join(
        f"<tr><td>{e(a['key'])}</td><td>{e(a['value'])}</td><td>{e(a['unit'])}</td>"
        f"<td style='text-align:left'>{e(a['source'])}</td></tr>"
        for a in district.assumptions.records())
    l_rows = "".join(f"<tr><td>{e(w)}</td><td style='text-align:left'>{e(src)}</td>"
                     f"<td style='text-align:left'>{e(lic)}</td></tr>"
                     for w, src, lic in LICENCES)
    synthetic = ("<p class='small'><b>Synthetic district</b>: tiles of real footprints, for "
                 "illustration.</p>" if district.is_synthetic else "")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{e(result.scenario.name)}
</title><style>{CSS}</style></head><body>
<section class="page">
  <p class="small">Decentra · decentralized energy planning · {today}</p>
  <h1>{e(result.scenario.name)}</h1>
  <p class="lead">{e(district.name)} — {district.n_buildings:,} buildings,
  {len(district.transformers)} transformers. Rooftop PV, batteries and community storage
  simulated hour by hour over a typical year.</p>{synthetic}
  <div class="cards">{cards}</div>
  <p class="small" style="margin-top:10mm">Indicators are computed from an 8760-hour simulation
  on real weather (DWD test reference year) with standard load profiles; energy is matched hour
  by hour, never netted over the year. Figures are estimates for planning; see the assumptions
  at the end.</p>
</section>
<section class="page">
  <h2>The district today and with the scenario</h2>
  <p class="small">Buildings coloured by self-sufficiency; feeders coloured by the loading and
  reverse flow of their transformer (red: above the transformer's rating).</p>
  <img src="{before}" style="width:70%">
  <img src="{after}">
</section>
<section class="page">
  <h2>Indicators against today</h2>
  <table><tr><th>Indicator</th><th>Today (no DER)</th><th>Scenario</th><th>Change</th></tr>
  {''.join(rows)}</table>
</section>
<section class="page">
  <h2>Resilience in a grid outage</h2>
  <p class="small">For an outage starting at every hour of the year, how long the critical load
  (a share of demand) is fully served by the building's own PV and battery — or, for a
  transformer microgrid, by all PV and storage behind the transformer — up to
  {result.horizon_h} hours.</p>
  <img src="{survival}">
  <h2>Transformers</h2>
  <table><tr><th>Transformer</th><th>Rating kVA</th><th>Buildings</th><th>PV kWp</th>
  <th>Self-suff. %</th><th>Max loading %</th><th>Reverse flow h/a</th><th>Hours &gt; rating</th>
  <th>Hosting capacity kWp (est.)</th><th>Microgrid survival h</th></tr>
  {''.join(t_rows)}</table>
</section>
<section class="page">
  <h2>Assumptions</h2>
  <table><tr><th>Key</th><th>Value</th><th>Unit</th><th>Source</th></tr>{a_rows}</table>
  <h2 style="margin-top:8mm">Data sources and licences</h2>
  <table><tr><th>What</th><th>Source</th><th>Licence</th></tr>{l_rows}</table>
</section>
</body></html>"""


def _num(v: float) -> str:
    return "unlimited" if not math.isfinite(v) else f"{v:,.0f}"


def _delta_text(unit: str, v: float, base: float) -> str:
    if not all(isinstance(x, float | int) and math.isfinite(x) for x in (v, base)):
        return ""
    d = v - base
    if abs(d) < 1e-9:
        return "±0"
    if unit == "1":
        return f"{100 * d:+.1f} pp"
    return f"{d:+,.0f} {unit}" if abs(d) >= 10 else f"{d:+,.2f} {unit}"


def html_to_pdf(document: str) -> bytes:
    """Print an HTML document to A4 PDF with the system Chromium.

    Runs in a worker thread: Playwright's sync API refuses to run in a thread that already
    has an asyncio loop (a notebook, or a caller driving its own browser)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print_pdf, document).result()


def _print_pdf(document: str) -> bytes:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    if chromium is None:
        raise DecentraError("the PDF report needs Chromium (Debian package 'chromium'); "
                            "scripts/setup installs it")
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=args)
        try:
            page = browser.new_page()
            page.set_content(document, wait_until="load")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()


def report_pdf(district: District, result: Result, baseline: Result,
               progress: Progress | None = None) -> bytes:
    document = report_html(district, result, baseline, progress)
    if progress:
        progress(0.9, "Printing the PDF")
    return html_to_pdf(document)


def standalone_html(district: District, result: Result, color_key: str = "self_sufficiency"
                    ) -> str:
    """An interactive map in one HTML file: opens by double-click, works with no internet."""
    fig = export_geo_map(district, result, color_key,
                         subtitle=f"{district.name} · {dt.date.today().isoformat()}")
    return pio.to_html(fig, include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "scrollZoom": True, "responsive": True},
                       default_width="100%", default_height="100vh")


def write_bytes(path: str | Path, data: bytes | str) -> Path:
    """Write to a temporary name then rename: never a half-written export."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    tmp.replace(path)
    return path
