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
from dashboard.domain.indicators import (
    NONE_MARKED,
    SUMMARY_INDICATORS,
    delta,
    format_value,
    hosting_text,
)
from dashboard.domain.result import Result
from dashboard.export.images import chromium_path, figure_bytes
from dashboard.figures import charts
from dashboard.figures.static import export_geo_map
from dashboard.scenarios import battery_warnings

Progress = Callable[[float, str], None]

GROUPS = {"time": "Time", "building": "Buildings", "pv": "PV", "battery": "Batteries",
          "grid": "Grid", "econ": "Economics", "emissions": "Emissions",
          "resilience": "Resilience"}
UNIT_SUFFIXES = ("_kg_co2_per_kwh", "_eur_per_kwp_a", "_eur_per_kwp", "_eur_per_kwh",
                 "_eur_per_kw", "_per_a", "_kwp", "_a", "_m2_per_kwp", "_kwh_m2",
                 "_per_kwh", "_per_c", "_kva", "_kwh", "_kw", "_m2", "_deg", "_pct", "_h")
WORDS = {"pv": "PV", "capex": "investment", "soc": "state of charge", "co2": "CO2",
         "dc": "DC", "ac": "AC", "eta": "efficiency", "nom": "nominal", "std": "standard",
         "lv": "LV", "gamma": "temperature coefficient of", "pdc": "DC power", "min": "minimum",
         "max": "maximum", "nonresidential": "non-residential", "om": "O&M"}


def assumption_label(key: str) -> str:
    """A reader's name for an assumptions-table key: "use.residential.specific_demand_kwh_m2"
    -> "Residential buildings: specific demand" (the unit has its own column)."""
    parts = key.split(".")
    if parts[0] == "use" and len(parts) >= 3:
        group, name = f"{parts[1].capitalize()} buildings", parts[2]
    else:
        group, name = GROUPS.get(parts[0], parts[0].capitalize()), parts[-1]
    for suffix in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    words = " ".join(WORDS.get(w, w) for w in name.split("_"))
    return f"{group}: {words}"


def _licence_of(source: str, kind: str) -> str:
    s = source.lower()
    if kind == "buildings":
        if "openstreetmap" in s or "momepy" in s or ".osm.pbf" in s:
            return "ODbL 1.0, © OpenStreetMap contributors" + (
                "; momepy BSD-3-Clause" if "momepy" in s else "")
        return "as supplied with the data (check its licence before publishing)"
    if kind == "weather":
        if "dwd" in s or "deutscher wetterdienst" in s:
            return "© Deutscher Wetterdienst, reuse with attribution (GeoNutzV)"
        if "pvgis" in s:
            return "PVGIS © European Union, reuse with attribution"
        return "as supplied with the weather file"
    if kind == "network":
        if "synthesized" in s:
            return "— (a model, not a utility's network)"
        return "as supplied with the network data"
    return ""


def data_sources(district: District) -> list[tuple[str, str, str]]:
    """(what, source, licence) of every input of this district, from its own records."""
    meta = district.meta or {}
    buildings = meta.get("buildings_source") or "OpenStreetMap footprints via momepy"
    weather = meta.get("weather_source") or "DWD TRY2010 via demandlib"
    network = meta.get("network_source") or "synthesized along the streets by Decentra"
    rows = [("Building footprints", buildings, _licence_of(buildings, "buildings")),
            ("Weather (hourly, typical year)", weather, _licence_of(weather, "weather")),
            ("Load profiles", meta.get("load_profile_source")
             or "BDEW standard load profiles 2025 via demandlib", "MIT (demandlib)"),
            ("PV model", "pvlib-python: Perez transposition, SAPM cell temperature, PVWatts",
             "BSD-3-Clause"),
            ("Low-voltage network", network, _licence_of(network, "network"))]
    if district.is_synthetic:
        rows.append(("District", "synthetic: tiles of real footprints, for illustration",
                     "—"))
    return rows


CSS = """
li.warn { color: #8a5a00; font-weight: 600; }
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; color: #1f2933; font-size: 10pt; }
h1 { font-size: 24pt; margin: 0 0 4mm; color: #102a43; }
h2 { font-size: 14pt; color: #0f766e; border-bottom: 1px solid #d9e2ec; padding-bottom: 2mm;
     margin-top: 0; }
.kicker { font-size: 10pt; letter-spacing: .08em; text-transform: uppercase; color: #0f766e;
          font-weight: bold; margin-bottom: 2mm; }
.page { page-break-after: always; }
.page:last-child { page-break-after: auto; }
.lead { font-size: 12pt; color: #486581; }
.cards { display: flex; flex-wrap: wrap; gap: 4mm; margin-top: 8mm; }
.card { border: 1px solid #d9e2ec; border-radius: 3mm; padding: 3mm 4mm; width: 52mm;
        background: #f5f7fa; }
.card .k { font-size: 8pt; color: #616e7c; text-transform: uppercase; }
.card .v { font-size: 15pt; font-weight: bold; margin-top: 1mm; }
.card .d { font-size: 8pt; color: #616e7c; margin-top: 1mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 1.4mm 2mm; text-align: right;
         vertical-align: top; }
th.l, td.l, th:first-child, td:first-child { text-align: left; }
th { background: #f0f4f8; }
td.good { color: #16794c; } td.bad { color: #b42318; }
img { width: 100%; }
.map { width: 100%; border: 1px solid #e4e7eb; border-radius: 2mm; margin-bottom: 4mm; }
.small { font-size: 8pt; color: #616e7c; }
.note { display: block; font-size: 7pt; color: #7b8794; }
table.assumptions { table-layout: fixed; font-size: 8pt; }
table.assumptions td { padding: 1mm 2mm; }
"""


HUBS_SHOWN_MAX = 40      # rows of the resilience hubs table; the rest counted


def hubs_section(district: District, result: Result) -> str:
    """The report's "Critical facilities" section: the resilience hubs worst first (why
    critical, critical load share, survival, PV and battery), or "none marked"."""
    from dashboard.scenarios import critical_facilities

    e = html.escape
    hubs = critical_facilities(district, result)
    head = "<h2>Critical facilities (resilience hubs)</h2>"
    if len(hubs) == 0:
        return (f"{head}<p class='small'>Critical facilities: {NONE_MARKED}. Hospitals, "
                "schools, fire stations and shelters are marked from OpenStreetMap tags at "
                "import, or by the planner.</p>")
    rows = []
    for r in hubs.head(HUBS_SHOWN_MAX).to_dict("records"):
        rows.append(
            f"<tr><td>{e(str(r['building_id']))}</td><td class='l'>{e(str(r['reason']))}</td>"
            f"<td>{100 * r['critical_load_fraction']:.0f} %</td>"
            f"<td>{e(format_value('survival_min_h', r['survival_min_h']))}</td>"
            f"<td>{e(format_value('survival_mean_h', r['survival_mean_h']))}</td>"
            f"<td>{e(format_value('p_survive_24h', r['p_survive_24h']))}</td>"
            f"<td>{e(format_value('p_survive_72h', r['p_survive_72h']))}</td>"
            f"<td>{e(format_value('pv_kwp', r['pv_kwp']))}</td>"
            f"<td>{e(format_value('battery_kwh', r['battery_kwh']))}</td></tr>")
    more = (f"<p class='small'>… and {len(hubs) - HUBS_SHOWN_MAX:,} more.</p>"
            if len(hubs) > HUBS_SHOWN_MAX else "")
    s = result.summary
    over = ", ".join(f"{label} {e(format_value(key, s.get(key)))}" for label, key in (
        ("worst survival", "critical_survival_min_h"),
        ("mean", "critical_survival_mean_h"), ("P(24 h)", "critical_p_survive_24h"),
        ("P(72 h)", "critical_p_survive_72h")))
    what = "1 critical facility" if len(hubs) == 1 else f"{len(hubs):,} critical facilities"
    lead = (f"{what}, each to serve its critical load from its own "
            f"PV and battery; worst first. Over them: {over}.")
    return (f"{head}<p class='small'>{lead}</p><table><tr><th>Building</th>"
            "<th class='l'>Why critical</th><th>Critical load</th><th>Survival, worst</th>"
            "<th>Survival, mean</th><th>P(24 h)</th><th>P(72 h)</th><th>PV</th><th>Battery</th>"
            f"</tr>{''.join(rows)}</table>{more}")


def grid_storage_section(district: District, result: Result) -> str:
    """Storage and PV for the grid: each community battery's mode and limits, the PV export
    limit, the PV curtailed per transformer, and the plausibility warnings ('' when the
    scenario uses none of these)."""
    e = html.escape
    sc = result.scenario
    t = result.transformers
    curtailed = (t["pv_curtailed_kwh"] if "pv_curtailed_kwh" in t else t["pv_kwp"] * 0.0)
    if not sc.community_batteries and sc.params.pv_export_limit_share is None \
            and not (curtailed > 0).any():
        return ""
    rows = []
    for c in sc.community_batteries:
        limits = ", ".join(f"{n} ≤ {v:,.0f} kW" for n, v in (("import", c.import_limit_kw),
                                                              ("export", c.export_limit_kw))
                           if v is not None)
        mode = "peak shaving" if c.mode == "peak_shaving" else "self-consumption"
        r = t.loc[c.transformer_id]
        rows.append(f"<tr><td>{e(c.transformer_id)}</td><td>{c.capacity_kwh:,.0f}</td>"
                    f"<td>{c.power_kw:,.0f}</td><td class='l'>{e(mode)}"
                    f"{' (' + e(limits) + ')' if limits else ''}</td>"
                    f"<td>{r['loading_pct']:.0f}</td><td>{r['hours_above_rating']:,.0f}</td>"
                    "</tr>")
    table = ("<table><tr><th>Transformer</th><th>kWh</th><th>kW</th><th class='l'>Mode</th>"
             "<th>Max loading %</th><th>Hours &gt; rating</th></tr>" + "".join(rows)
             + "</table>") if rows else ""
    share = sc.params.pv_export_limit_share
    limit = (f"PV export limited to {100 * share:.0f} % of each system's kWp at its meter"
             if share is not None else "No district-wide PV export limit")
    per_t = ", ".join(f"{e(str(k))} {v:,.0f}" for k, v in curtailed.items() if v > 0)
    warn = "".join(f"<li class='warn'>{e(w)}</li>" for w in battery_warnings(district, sc))
    return (f"<h2>Storage and PV for the grid</h2>{table}<p class='small'>{e(limit)}; PV "
            f"curtailed {result.summary.get('pv_curtailed_kwh', 0.0):,.0f} kWh/a"
            f"{' (per transformer, kWh/a: ' + per_t + ')' if per_t else ''}.</p>"
            + (f"<ul class='report-lines'>{warn}</ul>" if warn else ""))


def _svg(fig, width: int, height: int) -> str:
    """A figure as an inline SVG image: vector in the printed PDF."""
    return "data:image/svg+xml;base64," + base64.b64encode(
        figure_bytes(fig, "svg", width, height)).decode()


def report_html(district: District, result: Result, baseline: Result,
                progress: Progress | None = None) -> str:
    """The report as one self-contained HTML document."""
    step = progress or (lambda f, m: None)
    e = html.escape
    s, b = result.summary, baseline.summary
    today = dt.date.today().isoformat()
    meta = district.meta or {}
    weather = meta.get("weather_source", "a typical weather year")
    step(0.1, "Map of the district today")
    # both maps at one size and on one colour scale, each with its legend
    w, h = 1240, 690
    before = _svg(export_geo_map(district, baseline, title="Today: no PV, no storage",
                                 subtitle=district.name, width=w, height=h), w, h)
    step(0.35, "Map with the scenario")
    after = _svg(export_geo_map(district, result, title=f"With “{result.scenario.name}”",
                                subtitle=district.name, width=w, height=h), w, h)
    step(0.6, "Outage survival")
    curves = {"A building alone (random)": result.survival_curve()}
    t = result.transformers
    worst = t.sort_values("pooled_survival_mean_h").index[0] if len(t) else None
    if worst is not None:
        curves[f"Microgrid {worst} (least resilient)"] = result.survival_curve(
            transformer_id=worst)
    survival = _svg(charts.survival_chart(curves, "Outage survival: probability of serving "
                                                  "the critical load for at least d hours"),
                    1200, 520)
    step(0.8, "Tables")
    headline = ["self_sufficiency", "self_consumption", "pv_kwp", "peak_export_kw",
                "survival_mean_h", "p_survive_24h", "capex_eur", "payback_years", "npv_eur",
                "co2_avoided_t"]
    labels = {i.key: i.label for i in SUMMARY_INDICATORS}
    cards = []
    for k in headline:
        change, _ = delta(k, s.get(k), b.get(k))
        cards.append(f"<div class='card'><div class='k'>{e(labels[k])}</div>"
                     f"<div class='v'>{e(format_value(k, s.get(k)))}</div>"
                     f"<div class='d'>{e(change + ' vs today') if change else '&nbsp;'}</div>"
                     "</div>")
    rows = []
    for ind in SUMMARY_INDICATORS:
        v, base = s.get(ind.key, math.nan), b.get(ind.key, math.nan)
        change, kind = delta(ind.key, v, base)
        rows.append(f"<tr><td>{e(ind.label)}</td><td>{e(format_value(ind.key, base))}</td>"
                    f"<td>{e(format_value(ind.key, v))}</td><td class='{kind}'>"
                    f"{e(change)}</td></tr>")
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
        f"<tr><td>{e(assumption_label(a['key']))}"
        f"{'<span class=note>' + e(a['note']) + '</span>' if a.get('note') else ''}</td>"
        f"<td>{e(a['value'].replace(';', ', '))}</td><td class='l'>{e(a['unit'])}</td>"
        f"<td class='l'>{e(a['source'])}</td></tr>"
        for a in district.assumptions.records())
    l_rows = "".join(f"<tr><td>{e(w_)}</td><td class='l'>{e(src)}</td>"
                     f"<td class='l'>{e(lic)}</td></tr>"
                     for w_, src, lic in data_sources(district))
    synthetic = ("<p class='small'><b>Synthetic district</b>: tiles of real footprints, for "
                 "illustration.</p>" if district.is_synthetic else "")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{e(result.scenario.name)}
</title><style>{CSS}</style></head><body>
<section class="page">
  <div class="kicker">Decentralized energy planning report</div>
  <h1>{e(result.scenario.name)}</h1>
  <p class="lead">{e(district.name)} — {district.n_buildings:,} buildings,
  {len(district.transformers)} transformers. Rooftop PV, batteries and community storage
  simulated hour by hour over a typical year.</p>{synthetic}
  <p class="small">Prepared with Decentra on {today}.</p>
  <div class="cards">{''.join(cards)}</div>
  <p class="small" style="margin-top:10mm">Indicators come from an 8,760-hour simulation on
  {e(weather)}, with standard load profiles; energy is matched hour by hour behind each meter
  and each transformer, never netted over the year. Figures are planning estimates; the
  assumptions and sources are listed at the end.</p>
</section>
<section class="page">
  <h2>The district today and with the scenario</h2>
  <p class="small">Buildings coloured by self-sufficiency (one scale for both maps); feeders
  coloured by the loading and reverse flow of their transformer (red: above its rating).</p>
  <img class="map" src="{before}">
  <img class="map" src="{after}">
</section>
<section class="page">
  <h2>Indicators against today</h2>
  <table><tr><th>Indicator</th><th>Today (no DER)</th><th>Scenario</th><th>Change</th></tr>
  {''.join(rows)}</table>
  <p class="small">pp: percentage points.</p>
</section>
<section class="page">
  <h2>Resilience in a grid outage</h2>
  <p class="small">For an outage starting at every hour of the year, how long the critical load
  (a share of demand) is fully served by the building's own PV and battery — or, for a
  transformer microgrid, by all PV and storage behind the transformer — up to
  {result.horizon_h} hours.</p>
  <img src="{survival}">
  {hubs_section(district, result)}
  {grid_storage_section(district, result)}
  <h2>Transformers</h2>
  <table><tr><th>Transformer</th><th>Rating kVA</th><th>Buildings</th><th>PV kWp</th>
  <th>Self-suff. %</th><th>Max loading %</th><th>Reverse flow h/a</th><th>Hours &gt; rating</th>
  <th>Hosting capacity kWp (est.)</th><th>Microgrid survival h</th></tr>
  {''.join(t_rows)}</table>
</section>
<section class="page">
  <h2>Assumptions</h2>
  <table class="assumptions"><colgroup><col style="width:36%"><col style="width:11%">
  <col style="width:9%"><col style="width:44%"></colgroup>
  <tr><th>Assumption</th><th>Value</th><th class="l">Unit</th><th class="l">Source</th>
  </tr>{a_rows}</table>
  <h2 style="margin-top:8mm">Data sources and licences</h2>
  <table><tr><th>What</th><th class="l">Source</th><th class="l">Licence</th></tr>{l_rows}
  </table>
</section>
</body></html>"""


def _num(v: float) -> str:
    return hosting_text(v).removesuffix(" kWp")


def html_to_pdf(document: str, footer_text: str = "Decentra") -> bytes:
    """Print an HTML document to A4 PDF with the system Chromium.

    Runs in a worker thread: Playwright's sync API refuses to run in a thread that already
    has an asyncio loop (a notebook, or a caller driving its own browser)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print_pdf, document, footer_text).result()


def _print_pdf(document: str, footer_text: str) -> bytes:
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
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
            footer = ("<div style='font-size:7pt;color:#7b8794;width:100%;padding:0 14mm;"
                      "display:flex;justify-content:space-between;font-family:DejaVu Sans,"
                      "Helvetica,sans-serif'><span>" + html.escape(footer_text) + "</span>"
                      "<span>page <span class='pageNumber'></span> of "
                      "<span class='totalPages'></span></span></div>")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                            display_header_footer=True, header_template="<span></span>",
                            footer_template=footer)
        finally:
            browser.close()


def report_pdf(district: District, result: Result, baseline: Result,
               progress: Progress | None = None) -> bytes:
    document = report_html(district, result, baseline, progress)
    if progress:
        progress(0.9, "Printing the PDF")
    return html_to_pdf(document, f"{result.scenario.name} · {district.name} · Decentra")


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
