"""create_app(): the Dash application (a first page; the planning map follows)."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import dcc, html

import dashboard as dc
from dashboard.domain.indicators import SUMMARY_INDICATORS, format_value


def create_app(district_path: str | Path | None = None) -> dash.Dash:
    district = dc.load_district(district_path)
    base = dc.evaluate(district)
    rule = dc.evaluate(district, dc.place_pv_by_rule(
        district, dc.Scenario(name="PV on roofs ≥ 200 m² at 60 %"), min_roof_m2=200,
        coverage=0.6))
    rows = [html.Tr([html.Th("Indicator"), html.Th("No DER"), html.Th(rule.scenario.name)])]
    for ind in SUMMARY_INDICATORS:
        rows.append(html.Tr([html.Td(ind.label, title=ind.formula),
                             html.Td(format_value(ind.key, base.summary.get(ind.key))),
                             html.Td(format_value(ind.key, rule.summary.get(ind.key)))]))
    app = dash.Dash(__name__, title="Decentra", assets_folder=str(
        Path(__file__).resolve().parents[2] / "assets"))
    app.layout = html.Main([
        html.H1("Decentra"),
        html.P(f"{district.name}: {district.n_buildings} buildings, "
               f"{len(district.transformers)} transformers"),
        html.Table(rows, className="kpi-table"),
        dcc.Store(id="district-hash", data=district.content_hash),
    ])
    return app
