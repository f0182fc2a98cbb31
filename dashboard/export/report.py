"""The stakeholder report (PDF): what a consultant leaves with a city council.

Pages: the executive summary (the question, the recommended scenario against the
alternatives compared, cost, what the district gains, what the grid needs — from the verified
full-year power flow of exactly that scenario, else said to be an estimate); what is placed
where (table and map); the grid (verified limits, voltage and loading maps, hosting capacity
from the power flow); the district before and after; indicators against the no-DER baseline;
outage survival and critical facilities; assumptions and data sources with their licences.
Built as HTML from an autoescaped Jinja2 template (:mod:`.template`; figures as vector SVG
from kaleido) and printed to A4 PDF by the system Chromium (Playwright, no browser
download). The consultant's name and logo (:mod:`.logo`, re-encoded) can be set.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import plotly.io as pio
from markupsafe import Markup

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import (
    NONE_MARKED,
    SUMMARY_INDICATORS,
    delta,
    format_value,
    hosting_text,
)
from dashboard.domain.overrides import table_rows
from dashboard.domain.result import Result
from dashboard.export.council import ReportOptions, StudyLookup
from dashboard.export.images import chromium_path, figure_bytes
from dashboard.export.logo import logo_data_uri
from dashboard.figures import charts
from dashboard.figures.maps import pf_buses, pf_line_classes, pf_transformer_classes
from dashboard.figures.static import export_geo_map, export_grid_map
from dashboard.gridstudy import cached_study
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


def override_text(text: str) -> str:
    """An override's value for a table: lists with ', ', a long hourly series summarised."""
    parts = [p for p in text.split(";") if p]
    if len(parts) > 12:
        values = [float(p) for p in parts]
        return f"{len(values)} hourly values, {min(values):g}–{max(values):g}"
    return ", ".join(parts)


def overrides_section(district: District, result: Result) -> str:
    """The scenario's overrides of the district's assumptions (key, district value, scenario
    value, unit); empty when it has none."""
    rows = [r for r in table_rows(district.assumptions, result.scenario.assumptions)
            if r["override"]]
    if not rows:
        return ""
    e = html.escape
    body = "".join(
        f"<tr><td>{e(r['label'])}<span class=note>{e(r['key'])}</span></td>"
        f"<td>{e(override_text(r['district']))}</td><td><b>{e(override_text(r['override']))}"
        f"</b></td><td class='l'>{e(r['unit'])}</td></tr>" for r in rows)
    return ("<p class='small'>This scenario overrides these values of the district's table; "
            "its results use the scenario's.</p><table class='assumptions overrides'>"
            "<tr><th>Assumption</th><th>District</th><th>Scenario</th><th class='l'>Unit</th>"
            f"</tr>{body}</table><p></p>")


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
h3 { font-size: 11pt; color: #102a43; margin: 5mm 0 2mm; }
.masthead { display: flex; justify-content: space-between; align-items: flex-start; gap: 8mm;
            border-bottom: 2px solid #0f766e; padding-bottom: 3mm; margin-bottom: 4mm; }
.masthead h1 { font-size: 20pt; margin-bottom: 2mm; }
.masthead .lead { font-size: 10pt; margin: 0; }
.logo { max-height: 20mm; max-width: 50mm; width: auto; object-fit: contain; }
.question { background: #f0f4f8; border-left: 3px solid #0f766e; padding: 3mm 4mm;
            font-size: 11pt; color: #102a43; margin: 3mm 0; }
.question .k { font-size: 7.5pt; text-transform: uppercase; letter-spacing: .08em;
               color: #0f766e; font-weight: bold; margin-bottom: 1mm; }
table.compare { font-size: 8.5pt; }
table.compare th.rec, table.compare td.rec { background: #e6f6f3; font-weight: bold; }
.tag { display: inline-block; font-size: 6.5pt; font-weight: bold; text-transform: uppercase;
       letter-spacing: .05em; padding: .3mm 1.5mm; border-radius: 1mm; margin-left: 2mm;
       background: #0f766e; color: white; vertical-align: middle; }
.tag.ok { background: #16794c; } .tag.warn { background: #b54708; }
.cols { display: flex; gap: 6mm; } .cols > div { flex: 1; }
.cols ul { margin: 0; padding-left: 4mm; } .cols li { margin-bottom: 1.5mm; }
.estimate { background: #fffaeb; border: 1px solid #fedf89; border-radius: 2mm;
            padding: 0 3mm 2mm; }
.verified { background: #ecfdf3; border: 1px solid #abefc6; border-radius: 2mm;
            padding: 0 3mm 2mm; }
.warnbox { background: #fffaeb; border: 1px solid #fedf89; border-radius: 2mm; padding: 3mm 4mm;
           margin: 3mm 0; }
table.placed { font-size: 8pt; } table.placed td { padding: .8mm 2mm; }
.map.half { width: 49%; display: inline-block; }
section.summary .note { margin-top: 1mm; }
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
                progress: Progress | None = None, *, alternatives: Sequence[Result] = (),
                options: ReportOptions | None = None,
                study_of: StudyLookup | None = None) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    district, result, baseline:
        The district, the recommended scenario's result and the no-DER result.
    alternatives:
        Results of the other scenarios compared with it (the executive summary's table).
    options:
        The question, the consultant's name and sanitized logo.
    study_of:
        ``(district, scenario) -> GridStudy | None``: the full-year power flow of a scenario
        if one was run (default: the shared study cache). A study is shown as verified only
        when its hashes are those of that very scenario.
    """
    from dashboard.export import council
    from dashboard.export.template import render

    step = progress or (lambda f, m: None)
    opts = options or ReportOptions()
    lookup = study_of or cached_study
    e = html.escape
    s = result.summary
    today = dt.date.today().isoformat()
    meta = district.meta or {}
    weather = meta.get("weather_source", "a typical weather year")
    compared = [council.Compared(r, council.verified_study(district, r.scenario,
                                                           lookup(district, r.scenario)))
                for r in (result, *alternatives[:council.MAX_ALTERNATIVES])]
    study = compared[0].study
    needs = council.grid_needs(result, study)
    step(0.1, "Map of the district today")
    # both maps at one size and on one colour scale, each with its legend
    w, h = 1240, 690
    before = _svg(export_geo_map(district, baseline, title="Today: no PV, no storage",
                                 subtitle=district.name, width=w, height=h), w, h)
    step(0.3, "Map with the scenario")
    after = _svg(export_geo_map(district, result, title=f"With “{result.scenario.name}”",
                                subtitle=district.name, width=w, height=h), w, h)
    voltage_map = loading_map = ""
    if study is not None:
        step(0.45, "Power-flow maps")
        gw, gh = 1240, 620
        buses, bcls = pf_buses(study)
        lon, lat = buses["lon"].to_numpy(float), buses["lat"].to_numpy(float)
        none = np.full(len(lon), -1)
        lcls = pf_line_classes(district, study)
        tcls = pf_transformer_classes(district, study)
        voltage_map = _svg(export_grid_map(
            district, np.full(len(lcls), 0), lon, lat, bcls, tcls,
            "Voltage band (power flow)", "worst hour of the year at every bus", gw, gh), gw, gh)
        loading_map = _svg(export_grid_map(
            district, lcls, lon[:0], lat[:0], none[:0], tcls,
            "Line and transformer loading (power flow)", "highest hour of the year", gw, gh),
            gw, gh)
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
    rows = []
    b = baseline.summary
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
    transformers_table = (
        "<table><tr><th>Transformer</th><th>Rating [kVA]</th><th>Buildings</th>"
        "<th>PV [kWp]</th><th>Self-suff. [%]</th><th>Max loading [%]</th>"
        "<th>Reverse flow [h/a]</th><th>Hours &gt; rating [h/a]</th>"
        "<th>Hosting capacity, estimate [kWp]</th><th>Microgrid survival, mean [h]</th></tr>"
        f"{''.join(t_rows)}</table>")
    a_rows = "".join(
        f"<tr><td>{e(assumption_label(a['key']))}"
        f"{'<span class=note>' + e(a['note']) + '</span>' if a.get('note') else ''}</td>"
        f"<td>{e(a['value'].replace(';', ', '))}</td><td class='l'>{e(a['unit'])}</td>"
        f"<td class='l'>{e(a['source'])}</td></tr>"
        for a in district.assumptions.records())
    o_html = overrides_section(district, result)
    l_rows = "".join(f"<tr><td>{e(w_)}</td><td class='l'>{e(src)}</td>"
                     f"<td class='l'>{e(lic)}</td></tr>"
                     for w_, src, lic in data_sources(district))
    rest = f"""<section class="page">
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
  <p class="small">pp: percentage points. Indicators come from an 8,760-hour simulation on
  {e(weather)}, with standard load profiles; energy is matched hour by hour behind each meter
  and each transformer, never netted over the year. Figures are planning estimates.</p>
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
</section>
<section class="page">
  <h2>Assumptions</h2>{o_html}
  <table class="assumptions"><colgroup><col style="width:36%"><col style="width:11%">
  <col style="width:9%"><col style="width:44%"></colgroup>
  <tr><th>Assumption</th><th>Value</th><th class="l">Unit</th><th class="l">Source</th>
  </tr>{a_rows}</table>
  <h2 style="margin-top:8mm">Data sources and licences</h2>
  <table><tr><th>What</th><th class="l">Source</th><th class="l">Licence</th></tr>{l_rows}
  </table>
</section>"""
    placed = council.placements(district, result)
    community = council.community_batteries(result)
    shown = placed.head(PLACED_SHOWN_MAX)
    pf_rows, violations, limits = [], [], {}
    if study is not None:
        st = study.transformers.reindex(t.index)
        for tid, r in st.iterrows():
            pf_rows.append({"id": tid, "vmin": _f(r["vm_min_pu"], 3),
                            "vmax": _f(r["vm_max_pu"], 3),
                            "over": _f(r["overvoltage_hours"], 0),
                            "under": _f(r["undervoltage_hours"], 0),
                            "line": _f(r["line_loading_max_pct"], 0),
                            "trafo": _f(r["trafo_loading_max_pct"], 0),
                            "overload": _f(r["overload_hours"], 0),
                            "hc": _num(r["hosting_capacity_kwp"]),
                            "hc_est": _num(t.loc[tid, "hosting_capacity_kwp"])})
        violations = [{"kind": r.kind, "element": r.element, "transformer_id": r.transformer_id,
                       "worst": f"{r.worst:.3f} {r.unit}", "hours": f"{int(r.hours):,}"}
                      for r in study.violations.head(VIOLATIONS_SHOWN_MAX).itertuples()]
        limits = {"vmin": f"{study.limits['voltage_min_pu']:g}",
                  "vmax": f"{study.limits['voltage_max_pu']:g}",
                  "loading": f"{study.limits['loading_max_pct']:g}"}
    return render(
        css=Markup(CSS), title=result.scenario.name, district_name=district.name,
        n_buildings=f"{district.n_buildings:,}", n_transformers=len(district.transformers),
        consultant=opts.consultant, today=today,
        logo=logo_data_uri(opts.logo_png) if opts.logo_png else "",
        synthetic=district.is_synthetic,
        question=opts.question or council.default_question(district),
        n_alternatives=len(compared) - 1, compared_names=[c.name for c in compared],
        comparison=council.comparison_table(compared),
        baseline_ss=f"{100 * float(b.get('self_sufficiency', 0)):.1f}",
        cost=council.cost_lines(result), gains=council.gains(result, baseline),
        grid_verified=needs.verified, grid_lines=needs.lines,
        n_placed=f"{len(placed):,}", n_community=len(community),
        capex_total=f"{float(s.get('capex_eur', 0)):,.0f}", placement_map=after,
        placed=[{"building_id": r.building_id, "use_type": r.use_type,
                 "transformer_id": r.transformer_id, "pv": _f(r.pv_kwp, 1, zero="—"),
                 "kwh": _f(r.battery_kwh, 1, zero="—"),
                 "kw": _f(r.battery_kw, 1, zero="—"),
                 "cost": _f(r.capex_eur, 0)} for r in shown.itertuples()],
        placed_more=f"{len(placed) - len(shown):,}" if len(placed) > len(shown) else "",
        community=[{"transformer_id": r.transformer_id, "kwh": _f(r.kwh, 0),
                    "kw": _f(r.kw, 0), "cost": _f(r.capex_eur, 0)}
                   for r in community.itertuples()],
        limits=limits, pf_rows=pf_rows, violations=violations,
        voltage_map=voltage_map, loading_map=loading_map,
        transformers_table=Markup(transformers_table), rest=Markup(rest))


PLACED_SHOWN_MAX = 60        # rows of the placements table; the rest counted
VIOLATIONS_SHOWN_MAX = 10


def _f(v: float, digits: int, zero: str | None = None) -> str:
    """A table number: thousands separated, "—" when missing, ``zero`` (if given) for 0."""
    v = float(v)
    if not math.isfinite(v):
        return "—"
    if zero is not None and v == 0:
        return zero
    return f"{v:,.{digits}f}"


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
               progress: Progress | None = None, *, alternatives: Sequence[Result] = (),
               options: ReportOptions | None = None,
               study_of: StudyLookup | None = None) -> bytes:
    """The report (:func:`report_html`) printed to A4 PDF."""
    document = report_html(district, result, baseline, progress, alternatives=alternatives,
                           options=options, study_of=study_of)
    if progress:
        progress(0.9, "Printing the PDF")
    who = f" · {options.consultant}" if options and options.consultant else ""
    return html_to_pdf(document, f"{result.scenario.name} · {district.name}{who} · Decentra")


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
