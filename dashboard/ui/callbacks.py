"""Thin callbacks: parse inputs, call actions / the engine / figure builders, return outputs.

The map is only ever patched (``dash.Patch``): after a single edit the building layer changes in
the edited buildings' rows only, so a click sends a few numbers, not the district.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from dash import Dash, Input, Output, Patch, State, ctx, html, no_update

import dashboard as dc
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import Result
from dashboard.domain.scenario import Scenario
from dashboard.figures import charts
from dashboard.figures.maps import (
    COLOR_SPECS,
    FIRST_LINE_LAYER,
    LINE_CLASSES,
    OSM_LAYER,
    TRACE,
    MapBase,
    building_values,
    color_range,
    hover_data,
    marker_sizes,
    transformer_colors,
    transformer_custom,
)
from dashboard.ui import actions, ids, state
from dashboard.ui.components import kpi_cards, transformer_rows


@dataclass
class AppContext:
    """What callbacks need besides their inputs (immutable after start-up)."""

    registry: state.DistrictRegistry
    default_district: str
    tiles_url: str
    bases: dict[str, MapBase]

    def district(self, key: str) -> District:
        return self.registry.get(key)

    def base(self, district: District) -> MapBase:
        hit = self.bases.get(district.content_hash)
        if hit is None:
            hit = MapBase.from_district(district.buildings, district.transformers)
            self.bases[district.content_hash] = hit
        return hit


def geojson_url(district_key: str) -> str:
    return f"/geo/{district_key}/buildings.geojson"


def line_urls(district_key: str, scenario_key: str) -> list[str]:
    return [f"/geo/{district_key}/{scenario_key}/lines-{name}.geojson"
            for name, _, _ in LINE_CLASSES]


def pv_sizes(district: District, pv_kwp: np.ndarray) -> np.ndarray:
    """Marker sizes scaled to the district's largest roof potential (independent of other
    buildings' placements, so an edit changes its own marker only)."""
    top = max(float(district.buildings["pv_potential_kwp"].max()), 1.0)
    return marker_sizes(np.append(pv_kwp, top), 5, 13)[:-1]


BATTERY_SCALE_KWH = 50.0


def battery_sizes(kwh: np.ndarray) -> np.ndarray:
    return marker_sizes(np.append(np.minimum(kwh, BATTERY_SCALE_KWH), BATTERY_SCALE_KWH),
                        5, 11)[:-1]


def message(text: str, kind: str = "error") -> html.Div:
    stamp: dict[str, Any] = {"data-ts": f"{time.time():.3f}"}
    return html.Div(text, className=f"toast-body {kind}", **stamp)


def register_callbacks(app: Dash, context: AppContext) -> None:
    edit_buttons = [ids.PV_APPLY, ids.PV_REMOVE, ids.BAT_APPLY, ids.BAT_REMOVE,
                    ids.SEL_PV_APPLY, ids.SEL_BAT_APPLY, ids.SEL_REMOVE, ids.COMM_APPLY,
                    ids.COMM_REMOVE, ids.UNDO, ids.REDO, ids.RESET]

    # ---- edits ---------------------------------------------------------------------------
    @app.callback(
        Output(ids.SESSION, "data"), Output(ids.MESSAGE, "children"),
        *[Input(b, "n_clicks") for b in edit_buttons],
        Input(ids.SCENARIO_NAME, "value"),
        State(ids.SESSION, "data"), State(ids.SELECTION, "data"),
        State(ids.PV_KWP, "value"), State(ids.PV_TILT, "value"), State(ids.PV_AZIMUTH, "value"),
        State(ids.BAT_KWH, "value"), State(ids.BAT_KW, "value"),
        State(ids.SEL_COVERAGE, "value"), State(ids.SEL_BAT_KWH, "value"),
        State(ids.SEL_BAT_KW, "value"), State(ids.COMM_KWH, "value"),
        State(ids.COMM_KW, "value"),
        prevent_initial_call=True,
    )
    def edit(*args: Any) -> tuple[Any, Any]:
        (name, session_data, selection, pv_kwp, pv_tilt, pv_az, bat_kwh, bat_kw, coverage,
         sel_kwh, sel_kw, comm_kwh, comm_kw) = args[len(edit_buttons):]
        trigger = ctx.triggered_id
        try:
            session = state.parse_session(session_data)
            if trigger == ids.SCENARIO_NAME:
                current = state.get_scenario(session["scenario"])
                if str(name or "").strip() == current.name:
                    return no_update, no_update
            if trigger == ids.UNDO:
                return state.undo(session), message("Undone", "ok")
            if trigger == ids.REDO:
                return state.redo(session), message("Redone", "ok")
            district = context.district(session["district"])
            scenario = state.get_scenario(session["scenario"])
            chosen = list(selection.get("buildings") or [])
            tid = selection.get("transformer")
            handlers: dict[str, Callable[[], Scenario]] = {
                ids.PV_APPLY: lambda: actions.set_pv(district, scenario, _one(chosen), pv_kwp,
                                                     pv_tilt, pv_az),
                ids.PV_REMOVE: lambda: actions.remove_pv(district, scenario, chosen),
                ids.BAT_APPLY: lambda: actions.set_battery(district, scenario, chosen, bat_kwh,
                                                           bat_kw),
                ids.BAT_REMOVE: lambda: actions.remove_battery(district, scenario, chosen),
                ids.SEL_PV_APPLY: lambda: actions.pv_on_buildings(district, scenario, chosen,
                                                                  coverage),
                ids.SEL_BAT_APPLY: lambda: actions.set_battery(district, scenario, chosen,
                                                               sel_kwh, sel_kw),
                ids.SEL_REMOVE: lambda: actions.remove_all(district, scenario, chosen),
                ids.COMM_APPLY: lambda: actions.set_community(district, scenario, tid, comm_kwh,
                                                              comm_kw),
                ids.COMM_REMOVE: lambda: actions.remove_community(district, scenario, tid),
                ids.RESET: lambda: Scenario(name=scenario.name),
                ids.SCENARIO_NAME: lambda: scenario.renamed(str(name or "")),
            }
            new = handlers[trigger]()
            dc.validate(district, new) if trigger != ids.SCENARIO_NAME else None
            if new is scenario or (new == scenario and new.name == scenario.name):
                return no_update, message("Nothing changed", "info")
            return state.push(session, new), no_update
        except DecentraError as err:
            return no_update, message(str(err))

    # ---- rule placement: a background job (can be long on a large district) ---------------
    @app.callback(
        Output(ids.SESSION, "data", allow_duplicate=True),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.RULE_APPLY, "n_clicks"),
        State(ids.SESSION, "data"), State(ids.RULE_MIN_ROOF, "value"),
        State(ids.RULE_COVERAGE, "value"),
        background=True,
        running=[(Output(ids.RULE_APPLY, "disabled"), True, False)],
        progress=[Output(ids.RULE_PROGRESS, "children")],
        prevent_initial_call=True,
    )
    def apply_rule(set_progress: Callable, _n: int, session_data: Any, min_roof: Any,
                   coverage: Any) -> tuple[Any, Any]:
        try:
            set_progress(("Placing PV …",))
            session = state.parse_session(session_data)
            district = context.district(session["district"])
            scenario = state.get_scenario(session["scenario"])
            new = actions.apply_rule(district, scenario, min_roof, coverage)
            set_progress(("Saving …",))
            out = state.push(session, new)
            added = len(new.pv) - len(scenario.pv)
            set_progress(("",))
            return out, message(f"PV placed on roofs of at least {float(min_roof):g} m² "
                                f"({len(new.pv)} roofs with PV, {added:+d})", "ok")
        except DecentraError as err:
            set_progress(("",))
            return no_update, message(str(err))

    # ---- results: KPIs, map patch, transformer table -------------------------------------
    @app.callback(
        Output(ids.MAP, "figure"), Output(ids.KPIS, "children"),
        Output(ids.TRANSFORMER_TABLE, "data"), Output(ids.SCENARIO_STATUS, "children"),
        Output(ids.UNDO, "disabled"), Output(ids.REDO, "disabled"),
        Output(ids.RENDERED, "data"), Output(ids.SCENARIO_NAME, "value"),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.SESSION, "data"), Input(ids.COLOR_BY, "value"), Input(ids.LAYERS, "value"),
        Input(ids.BASEMAP, "value"),
        State(ids.RENDERED, "data"),
        running=[(Output(ids.BUSY, "className"), "busy on", "busy")],
        prevent_initial_call="initial_duplicate",
    )
    def render(session_data: Any, color_key: str, layers: list[str], basemap: str | None,
               rendered: dict | None) -> tuple:
        try:
            session = state.parse_session(session_data)
            district = context.district(session["district"])
            scenario = state.get_scenario(session["scenario"])
            result = dc.evaluate(district, scenario)
            baseline = dc.baseline(district)
        except DecentraError as err:
            return (no_update,) * 8 + (message(str(err)),)
        spec = COLOR_SPECS.get(color_key) or COLOR_SPECS["self_sufficiency"]
        b = building_frame(district, result)
        patch = Patch()
        scen_hash = scenario.content_hash()
        lineage = scenario.lineage
        incremental = (rendered is not None and rendered.get("district") == district.content_hash
                       and rendered.get("color") == spec.key and lineage is not None
                       and lineage.parent_hash == rendered.get("scenario")
                       and len(lineage.building_ids) <= 200)
        if incremental:
            assert lineage is not None
            rows = district.buildings.index.get_indexer(
                _rows_of(district, lineage.building_ids))
            z = building_values(b.iloc[rows], spec)
            custom = hover_data(b.iloc[rows])
            pv = pv_sizes(district, b["pv_kwp"].to_numpy(float)[rows])
            bat = battery_sizes(b["battery_kwh"].to_numpy(float)[rows])
            for j, r in enumerate(rows):
                patch["data"][TRACE["buildings"]]["z"][r] = _num(z[j])
                patch["data"][TRACE["buildings"]]["customdata"][r] = custom[j].tolist()
                patch["data"][TRACE["pv"]]["marker"]["size"][r] = float(pv[j])
                patch["data"][TRACE["pv"]]["customdata"][r] = [round(float(
                    b["pv_kwp"].iloc[r]), 1)]
                patch["data"][TRACE["battery"]]["marker"]["size"][r] = float(bat[j])
                patch["data"][TRACE["battery"]]["customdata"][r] = [round(float(
                    b["battery_kwh"].iloc[r]), 1)]
        else:
            z = building_values(b, spec)
            zrange = color_range(spec, building_values(_range_frame(district, b, spec), spec))
            trace = patch["data"][TRACE["buildings"]]
            trace["z"] = [_num(v) for v in z]
            trace["customdata"] = hover_data(b).tolist()
            trace["zmin"], trace["zmax"] = zrange
            trace["meta"] = spec.label
            trace["colorscale"] = spec.colorscale
            trace["colorbar"]["title"]["text"] = f"{spec.label} [{spec.unit}]"
            pv = b["pv_kwp"].to_numpy(float)
            bat = b["battery_kwh"].to_numpy(float)
            patch["data"][TRACE["pv"]]["marker"]["size"] = pv_sizes(district, pv).tolist()
            patch["data"][TRACE["pv"]]["customdata"] = np.round(pv, 1)[:, None].tolist()
            patch["data"][TRACE["battery"]]["marker"]["size"] = battery_sizes(bat).tolist()
            patch["data"][TRACE["battery"]]["customdata"] = np.round(bat, 1)[:, None].tolist()
        t = result.transformers
        patch["data"][TRACE["transformers"]]["marker"]["color"] = transformer_colors(t)
        patch["data"][TRACE["transformers"]]["customdata"] = transformer_custom(t).tolist()
        comm = t["community_battery_kwh"].to_numpy(float)
        patch["data"][TRACE["community"]]["marker"]["size"] = marker_sizes(comm, 9, 18).tolist()
        patch["data"][TRACE["community"]]["customdata"] = np.round(comm, 0)[:, None].tolist()
        urls = line_urls(district.content_hash, session["scenario"])
        show = set(layers or [])
        for i, url in enumerate(urls):
            patch["layout"]["map"]["layers"][FIRST_LINE_LAYER + i]["source"] = url
            patch["layout"]["map"]["layers"][FIRST_LINE_LAYER + i]["visible"] = "feeders" in show
        patch["data"][TRACE["pv"]]["visible"] = "pv" in show
        patch["data"][TRACE["battery"]]["visible"] = "batteries" in show
        patch["data"][TRACE["transformers"]]["visible"] = "transformers" in show
        patch["data"][TRACE["community"]]["visible"] = "transformers" in show
        if basemap and (rendered is None or rendered.get("basemap") != basemap):
            patch["layout"]["map"]["layers"][OSM_LAYER]["visible"] = basemap == "osm"
        status = (f"{len(scenario.pv)} PV · {len(scenario.batteries)} batteries · "
                  f"{len(scenario.community_batteries)} community · "
                  f"{result.summary['pv_kwp']:,.0f} kWp")
        new_rendered = {"district": district.content_hash, "scenario": scen_hash,
                        "color": spec.key, "basemap": basemap}
        return (patch, kpi_cards(result.summary, baseline.summary),
                transformer_rows(t), status, not session["undo"], not session["redo"],
                new_rendered, scenario.name, no_update)

    # ---- selection -----------------------------------------------------------------------
    @app.callback(
        Output(ids.SELECTION, "data"),
        Input(ids.MAP, "clickData"), Input(ids.MAP, "selectedData"), Input(ids.SEL_CLEAR,
                                                                             "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def select(click: dict | None, selected: dict | None, _clear: int, session_data: Any
               ) -> dict:
        trigger = ctx.triggered_id
        if trigger == ids.SEL_CLEAR:
            return {"buildings": [], "transformer": None}
        data = click if ctx.triggered[0]["prop_id"].endswith("clickData") else selected
        return selection_from_points((data or {}).get("points") or [])

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Output(ids.SINGLE_PANEL, "style"), Output(ids.MULTI_PANEL, "style"),
        Output(ids.TRANSFORMER_PANEL, "style"), Output(ids.PANEL_TITLE, "children"),
        Output(ids.PANEL_HINT, "style"), Output("single-info", "children"),
        Output("multi-info", "children"), Output("transformer-info", "children"),
        Output(ids.PV_KWP, "value"), Output(ids.PV_TILT, "value"),
        Output(ids.PV_AZIMUTH, "value"), Output(ids.BAT_KWH, "value"),
        Output(ids.BAT_KW, "value"), Output(ids.COMM_KWH, "value"), Output(ids.COMM_KW, "value"),
        Input(ids.SELECTION, "data"), Input(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def show_selection(selection: dict, session_data: Any) -> tuple:
        hide, show = {"display": "none"}, {"display": "block"}
        try:
            session = state.parse_session(session_data)
            district = context.district(session["district"])
            scenario = state.get_scenario(session["scenario"])
        except DecentraError:
            return (no_update,) * 16
        chosen = [str(b) for b in selection.get("buildings") or []]
        tid = selection.get("transformer")
        patch = Patch()
        patch["data"][TRACE["selection"]]["locations"] = chosen
        patch["data"][TRACE["selection"]]["z"] = [1] * len(chosen)
        keep = (no_update,) * 7
        if tid:
            result = dc.evaluate(district, scenario)
            row = result.transformers.loc[tid]
            comm = scenario.community_battery_of(tid)
            info = [html.B(f"Transformer {tid}"), html.Br(),
                    f"{row['rating_kva']:,.0f} kVA · {int(row['n_buildings'])} buildings · "
                    f"PV {row['pv_kwp']:,.0f} kWp", html.Br(),
                    f"max loading {row['loading_pct']:.0f} % · reverse flow "
                    f"{row['reverse_flow_hours']:,.0f} h/a · hosting capacity "
                    f"{_fmt(row['hosting_capacity_kwp'])} kWp (estimate)"]
            return (patch, hide, hide, show, f"Transformer {tid}", hide, no_update, no_update,
                    info, *keep[:5], comm.capacity_kwh if comm else 200,
                    comm.power_kw if comm else 100)
        if len(chosen) == 1:
            bid = chosen[0]
            rows = district.buildings.loc[district.buildings["building_id"] == bid]
            if rows.empty:
                return (patch, hide, hide, hide, "Nothing selected", show) + (no_update,) * 10
            row = rows.iloc[0]
            pv = scenario.pv_of(bid)
            bat = scenario.battery_of(bid)
            info = [html.B(f"Building {bid}"), f" · {row['use_type']}", html.Br(),
                    f"roof {row['roof_area_m2']:,.0f} m² · potential "
                    f"{row['pv_potential_kwp']:,.1f} kWp (max "
                    f"{actions.max_kwp(district, row['roof_area_m2']):,.1f} at full coverage)",
                    html.Br(), f"{row['storeys']:.0f} storeys"
                    f"{' (assumed)' if row['storeys_assumed'] else ''} · demand "
                    f"{row['annual_demand_kwh'] / 1000:,.1f} MWh/a"
                    f"{' (assumed)' if row['demand_assumed'] else ''}"]
            return (patch, show, hide, hide, f"Building {bid}", hide, info, no_update, no_update,
                    round(pv.kwp if pv else float(row["pv_potential_kwp"]), 1),
                    pv.tilt_deg if pv else float(row["roof_tilt_deg"]),
                    pv.azimuth_deg if pv else float(row["azimuth_deg"]),
                    bat.capacity_kwh if bat else 10, bat.power_kw if bat else 5,
                    no_update, no_update)
        if chosen:
            b = district.buildings[district.buildings["building_id"].isin(chosen)]
            info = [html.B(f"{len(chosen)} buildings selected"), html.Br(),
                    f"roofs {b['roof_area_m2'].sum():,.0f} m² · potential "
                    f"{b['pv_potential_kwp'].sum():,.0f} kWp · demand "
                    f"{b['annual_demand_kwh'].sum() / 1000:,.0f} MWh/a"]
            return (patch, hide, show, hide, f"{len(chosen)} buildings", hide, no_update, info,
                    no_update, *(no_update,) * 7)
        return (patch, hide, hide, hide, "Nothing selected", show) + (no_update,) * 10

    # ---- details -------------------------------------------------------------------------
    @app.callback(
        Output(ids.WEEK_CHART, "figure"), Output(ids.SURVIVAL_CHART, "figure"),
        Output(ids.DETAIL_TITLE, "children"),
        Input(ids.SELECTION, "data"), Input(ids.SESSION, "data"),
        Input(ids.DETAIL_WEEK, "value"), Input(ids.DETAIL_DAY, "value"),
    )
    def details(selection: dict, session_data: Any, week: str, day: list[str]) -> tuple:
        try:
            session = state.parse_session(session_data)
            district = context.district(session["district"])
            result = dc.evaluate(district, state.get_scenario(session["scenario"]))
        except DecentraError:
            return no_update, no_update, no_update
        chosen = selection.get("buildings") or []
        tid = selection.get("transformer")
        typical = "day" in (day or [])
        if tid:
            title = f"Transformer {tid}"
            hourly = result.hourly(transformer_id=tid)
            hourly = hourly.rename(columns={})
            curves = {"Microgrid (shared PV + storage)": result.survival_curve(
                transformer_id=tid)}
        elif len(chosen) == 1:
            title = f"Building {chosen[0]}"
            hourly = result.hourly(building_id=chosen[0])
            curves = {"Building alone": result.survival_curve(building_id=chosen[0])}
            t = result.buildings.loc[chosen[0], "transformer_id"]
            curves[f"Microgrid of {t}"] = result.survival_curve(transformer_id=t)
        else:
            title = "District"
            hourly = result.hourly()
            curves = {"A building at random": result.survival_curve()}
        return (charts.week_chart(hourly, title, week, typical),
                charts.survival_chart(curves, "Outage survival"), title)


def building_frame(district: District, result: Result) -> Any:
    """Result per building plus district attributes, in district row order."""
    frame = result.buildings.reset_index(drop=True)
    frame["pv_potential_kwp"] = district.buildings["pv_potential_kwp"].to_numpy(float)
    return frame


def _range_frame(district: District, frame: Any, spec: Any) -> Any:
    """Fixed colour ranges per district: PV colours run to the largest roof potential."""
    if spec.key in ("pv_kwp", "pv_potential_kwp"):
        out = frame.copy()
        out[spec.key] = district.buildings["pv_potential_kwp"].to_numpy(float)
        return out
    return frame


def _rows_of(district: District, building_ids: Any) -> Any:
    ids_ = district.buildings["building_id"]
    return ids_.index[ids_.isin(list(building_ids))]


def _one(chosen: list[str]) -> str:
    if len(chosen) != 1:
        raise DecentraError("select exactly one building to set its PV")
    return chosen[0]


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


def _fmt(v: float) -> str:
    return "∞" if not math.isfinite(v) else f"{v:,.0f}"


def selection_from_points(points: list[dict]) -> dict:
    """Building ids (polygons carry ``location``, markers ``text``) or one transformer."""
    buildings: list[str] = []
    transformer = None
    for p in points:
        curve = p.get("curveNumber")
        if curve == TRACE["buildings"] or curve == TRACE["selection"]:
            if p.get("location") is not None:
                buildings.append(str(p["location"]))
        elif curve in (TRACE["pv"], TRACE["battery"]):
            if p.get("text") is not None:
                buildings.append(str(p["text"]))
        elif curve in (TRACE["transformers"], TRACE["community"]) and p.get("text"):
            transformer = str(p["text"])
    if transformer and len(points) == 1:
        return {"buildings": [], "transformer": transformer}
    return {"buildings": list(dict.fromkeys(buildings)), "transformer": None}
