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
import shapely
from dash import Dash, Input, Output, Patch, State, ctx, html, no_update

import dashboard as dc
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario
from dashboard.figures import charts
from dashboard.figures.maps import (
    COLOR_SPECS,
    EMPTY_GEOJSON,
    LAYER,
    TRACE,
    MapBase,
    building_frame,
    community_sizes,
    framed_view,
    legend_items,
    transformer_colors,
    transformer_custom,
)
from dashboard.ui import actions, ids, state
from dashboard.ui.components import kpi_cards, transformer_rows
from dashboard.ui.layers import LayerService


@dataclass
class AppContext:
    """What callbacks need besides their inputs (immutable after start-up)."""

    registry: state.DistrictRegistry
    default_district: str
    tiles_url: str
    bases: dict[str, MapBase]
    layers: LayerService

    def district(self, key: str) -> District:
        return self.registry.get(key)

    def current(self, session_data: Any) -> tuple[state.Session, District, Scenario]:
        """The page's session, its district and its current scenario. Raises DecentraError
        (damaged page state, a district or scenario no longer on the server)."""
        session = state.parse_session(session_data)
        return (session, self.district(session["district"]),
                state.get_scenario(session["scenario"]))

    def base(self, district: District) -> MapBase:
        hit = self.bases.get(district.content_hash)
        if hit is None:
            hit = MapBase.from_district(district.buildings, district.transformers)
            self.bases[district.content_hash] = hit
        return hit


def message(text: str, kind: str = "error") -> html.Div:
    stamp: dict[str, Any] = {"data-ts": f"{time.time():.3f}"}
    return html.Div(text, className=f"toast-body {kind}", **stamp)


def register_callbacks(app: Dash, context: AppContext) -> None:
    edit_buttons = [ids.PV_APPLY, ids.PV_REMOVE, ids.BAT_APPLY, ids.BAT_REMOVE,
                    ids.SEL_PV_APPLY, ids.SEL_BAT_APPLY, ids.SEL_REMOVE, ids.COMM_APPLY,
                    ids.COMM_REMOVE, ids.UNDO, ids.REDO, ids.RESET]

    render_outputs = [
        Output(ids.MAP, "figure", allow_duplicate=True),
        Output(ids.KPIS, "children", allow_duplicate=True),
        Output(ids.TRANSFORMER_TABLE, "data", allow_duplicate=True),
        Output(ids.SCENARIO_STATUS, "children", allow_duplicate=True),
        Output(ids.UNDO, "disabled", allow_duplicate=True),
        Output(ids.REDO, "disabled", allow_duplicate=True),
        Output(ids.MAP_LEGEND, "children", allow_duplicate=True),
        Output(ids.SCENARIO_NAME, "value", allow_duplicate=True),
        Output(ids.GRID_STATUS, "children", allow_duplicate=True),
        Output(ids.GRID_VIOLATIONS, "children", allow_duplicate=True),
        Output(ids.GRID_LEGEND, "children", allow_duplicate=True),
        Output("transformer-info", "children", allow_duplicate=True),
    ]
    view_state = [State(ids.COLOR_BY, "value"), State(ids.LAYERS, "value"),
                  State(ids.BASEMAP, "value"), State(ids.GRID_LAYER, "value")]
    skip_render = (no_update,) * len(render_outputs)

    def view(session: state.Session, view_args: tuple, selection: dict | None) -> tuple:
        color, layers, basemap, grid_mode = view_args
        return render_view(context, session, color, layers, basemap, selection, grid_mode)

    # ---- edits: one round trip computes the new scenario and everything it changes --------
    @app.callback(
        Output(ids.SESSION, "data"), Output(ids.MESSAGE, "children"), *render_outputs,
        *[Input(b, "n_clicks") for b in edit_buttons],
        Input(ids.SCENARIO_NAME, "value"),
        State(ids.SESSION, "data"), State(ids.SELECTION, "data"),
        State(ids.PV_KWP, "value"), State(ids.PV_TILT, "value"), State(ids.PV_AZIMUTH, "value"),
        State(ids.BAT_KWH, "value"), State(ids.BAT_KW, "value"),
        State(ids.SEL_COVERAGE, "value"), State(ids.SEL_BAT_KWH, "value"),
        State(ids.SEL_BAT_KW, "value"), State(ids.COMM_KWH, "value"),
        State(ids.COMM_KW, "value"), *view_state,
        running=[(Output(ids.BUSY, "className"), "busy on", "busy")],
        prevent_initial_call=True,
    )
    def edit(*args: Any) -> tuple:
        (name, session_data, selection, pv_kwp, pv_tilt, pv_az, bat_kwh, bat_kw, coverage,
         sel_kwh, sel_kw, comm_kwh, comm_kw, *view_args) = args[len(edit_buttons):]
        trigger = ctx.triggered_id
        try:
            session = state.parse_session(session_data)
            if trigger == ids.SCENARIO_NAME:
                current = state.get_scenario(session["scenario"])
                if str(name or "").strip() == current.name:
                    return (no_update, no_update, *skip_render)
            if trigger == ids.UNDO:
                new_session = state.undo(session)
                return (new_session, message("Undone", "ok"),
                        *view(new_session, tuple(view_args), selection))
            if trigger == ids.REDO:
                new_session = state.redo(session)
                return (new_session, message("Redone", "ok"),
                        *view(new_session, tuple(view_args), selection))
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
                return (no_update, message("Nothing changed", "info"), *skip_render)
            new_session = state.push(session, new)
            # None clears a message left from an earlier refused edit
            return (new_session, None, *view(new_session, tuple(view_args), selection))
        except DecentraError as err:
            return (no_update, message(str(err)), *skip_render)

    # ---- rule placement: a background job (can be long on a large district) ---------------
    @app.callback(
        Output(ids.SESSION_BG, "data"),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.RULE_APPLY, "n_clicks"),
        State(ids.SESSION, "data"), State(ids.RULE_MIN_ROOF, "value"),
        State(ids.RULE_COVERAGE, "value"),
        background=True,
        running=[(Output(ids.RULE_APPLY, "disabled"), True, False),
                 (Output(ids.RULE_BUSY, "className"), "busy on dark", "busy dark")],
        progress=[Output(ids.RULE_PROGRESS, "children")],
        interval=500,
        prevent_initial_call=True,
    )
    def apply_rule(set_progress: Callable, _n: int, session_data: Any, min_roof: Any,
                   coverage: Any) -> tuple[Any, Any]:
        try:
            set_progress(("Placing PV …",))
            session, district, scenario = context.current(session_data)
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

    # ---- view changes, first load, results of background jobs ----------------------------
    @app.callback(
        Output(ids.SESSION, "data", allow_duplicate=True), *render_outputs,
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.SESSION_BG, "data"), Input(ids.COLOR_BY, "value"),
        Input(ids.LAYERS, "value"), Input(ids.BASEMAP, "value"),
        State(ids.SESSION, "data"), State(ids.SELECTION, "data"), State(ids.GRID_LAYER, "value"),
        running=[(Output(ids.BUSY, "className"), "busy on", "busy")],
        prevent_initial_call="initial_duplicate",
    )
    def render(session_bg: Any, color_key: str, layers: list[str], basemap: str | None,
               session_data: Any, selection: dict | None, grid_mode: str | None) -> tuple:
        promoted = ctx.triggered_id == ids.SESSION_BG and session_bg is not None
        try:
            session = state.parse_session(session_bg if promoted else session_data)
            outputs = render_view(context, session, color_key, layers, basemap, selection,
                                  grid_mode)
        except DecentraError as err:
            return (no_update, *skip_render, message(str(err)))
        if not ctx.triggered_id:
            # first load: the page's figure already shows this scenario; patching it now
            # would only make the browser re-process the map while it is still loading
            outputs = (no_update, *outputs[1:])
        return (session if promoted else no_update, *outputs, no_update)

    # ---- frame the district in the visible part of the map --------------------------------
    app.clientside_callback("function(view) { return window.decentraMeasureMap(); }",
                            Output(ids.MAP_SIZE, "data"), Input(ids.VIEW, "data"))

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True), Output(ids.MAP_FITTED, "children"),
        Input(ids.MAP_SIZE, "data"), State(ids.SESSION, "data"),
        State(ids.MAP, "relayoutData"),
        prevent_initial_call=True,
    )
    def fit(size: dict | None, session_data: Any, moved: dict | None) -> tuple:
        """Frame the district; ``map-fitted`` says it is done (scripts wait for it)."""
        if isinstance(size, dict) and size.get("reason") == "load" and isinstance(moved, dict) \
                and any(k.startswith("map.") for k in moved):
            return no_update, "kept"   # the user already moved the map: leave their view
        try:
            view = parse_map_size(size)
            district = context.district(state.parse_session(session_data)["district"])
        except DecentraError:
            return no_update, "kept"
        centre, zoom = framed_view(district.buildings.total_bounds, **view)
        patch = Patch()
        patch["layout"]["map"]["center"] = centre
        patch["layout"]["map"]["zoom"] = zoom
        return patch, "fitted"

    # ---- selection ----------------------------------------------------------------------
    @app.callback(
        Output(ids.SELECTION, "data"),
        Input(ids.MAP_CLICK, "data"), Input(ids.MAP, "clickData"),
        Input(ids.MAP_REGION, "data"), Input(ids.SEL_CLEAR, "n_clicks"),
        State(ids.SESSION, "data"), State(ids.SELECTION, "data"),
        prevent_initial_call=True,
    )
    def select(building_click: dict | None, click: dict | None, selected: dict | None,
               _clear: int, session_data: Any, current: dict | None) -> Any:
        prop = ctx.triggered[0]["prop_id"] if ctx.triggered else ""
        if ctx.triggered_id == ids.SEL_CLEAR:
            return {"buildings": [], "transformer": None}
        if prop.startswith(ids.MAP_CLICK):
            bid = (building_click or {}).get("building")
            if not bid:
                return no_update
            prev = list((current or {}).get("buildings") or [])
            if (building_click or {}).get("shift"):
                chosen = [b for b in prev if b != bid] if bid in prev else [*prev, bid]
                return {"buildings": chosen, "transformer": None}
            return {"buildings": [str(bid)], "transformer": None}
        if prop.endswith("clickData"):
            return selection_from_points((click or {}).get("points") or [])
        try:
            session = state.parse_session(session_data)
            base = context.base(context.district(session["district"]))
        except DecentraError:
            return no_update
        return selection_from_region(base, selected or {})

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Output(ids.SINGLE_PANEL, "style"), Output(ids.MULTI_PANEL, "style"),
        Output(ids.TRANSFORMER_PANEL, "style"), Output(ids.PANEL_TITLE, "children"),
        Output(ids.PANEL_HINT, "style"), Output("single-info", "children"),
        Output("multi-info", "children"),
        Output(ids.PV_KWP, "value"), Output(ids.PV_TILT, "value"),
        Output(ids.PV_AZIMUTH, "value"), Output(ids.BAT_KWH, "value"),
        Output(ids.BAT_KW, "value"), Output(ids.COMM_KWH, "value"), Output(ids.COMM_KW, "value"),
        Input(ids.SELECTION, "data"), State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def show_selection(selection: dict, session_data: Any) -> tuple:
        hide, show = {"display": "none"}, {"display": "block"}
        try:
            _, district, scenario = context.current(session_data)
        except DecentraError:
            return (no_update,) * 15
        chosen = [str(b) for b in selection.get("buildings") or []]
        tid = selection.get("transformer")
        patch = Patch()
        url = context.layers.selection(district, chosen)
        patch["layout"]["map"]["layers"][LAYER.SELECTION]["source"] = url or EMPTY_GEOJSON
        keep = (no_update,) * 7
        if tid:
            comm = scenario.community_battery_of(tid)
            return (patch, hide, hide, show, f"Transformer {tid}", hide, no_update, no_update,
                    *keep[:5], comm.capacity_kwh if comm else 200,
                    comm.power_kw if comm else 100)
        if len(chosen) == 1:
            bid = chosen[0]
            rows = district.buildings.loc[district.buildings["building_id"] == bid]
            if rows.empty:
                return (patch, hide, hide, hide, "Nothing selected", show) + (no_update,) * 9
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
            return (patch, show, hide, hide, f"Building {bid}", hide, info, no_update,
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
                    *(no_update,) * 7)
        return (patch, hide, hide, hide, "Nothing selected", show) + (no_update,) * 9

    # ---- the transformer panel: figures of the scenario on screen, verified or not ---------
    @app.callback(
        Output("transformer-info", "children"),
        Input(ids.SELECTION, "data"), Input(ids.GRID_STORE, "data"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def transformer_info(selection: dict | None, _grid: Any, session_data: Any) -> Any:
        tid = (selection or {}).get("transformer")
        if not tid:
            return no_update
        try:
            _, district, scenario = context.current(session_data)
            return transformer_panel(district, scenario, str(tid))
        except (DecentraError, KeyError):
            return no_update

    # ---- details -------------------------------------------------------------------------
    @app.callback(
        Output(ids.WEEK_CHART, "figure"), Output(ids.SURVIVAL_CHART, "figure"),
        Output(ids.DETAIL_TITLE, "children"),
        Input(ids.SELECTION, "data"), Input(ids.SESSION, "data"),
        Input(ids.DETAIL_WEEK, "value"), Input(ids.DETAIL_DAY, "value"),
        Input(ids.TABS, "value"),
    )
    def details(selection: dict, session_data: Any, week: str, day: list[str],
                tab: str) -> tuple:
        if tab != "details":      # charts are only built while they are on screen
            return no_update, no_update, no_update
        try:
            _, district, scenario = context.current(session_data)
            result = dc.evaluate(district, scenario)
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


def render_view(context: AppContext, session: state.Session, color_key: str | None,
                layers: list[str] | None, basemap: str | None, selection: dict | None,
                grid_mode: str | None = "power-flow") -> tuple:
    """Everything that shows a scenario: map patch, KPI cards, transformer rows, status line,
    undo / redo state, legend, scenario name. Where the power flow of the scenario has run
    (a study in the cache), feeders, buses and the table show it. Raises DecentraError."""
    from dashboard.ui.gridview import cached_study, grid_patch, status_text, violation_items
    from dashboard.ui.layout import feeder_legend

    district = context.district(session["district"])
    scenario = state.get_scenario(session["scenario"])
    result = dc.evaluate(district, scenario)
    baseline = dc.baseline(district)
    spec = COLOR_SPECS.get(color_key or "") or COLOR_SPECS["self_sufficiency"]
    t = result.transformers
    chosen = list((selection or {}).get("buildings") or [])
    tid = (selection or {}).get("transformer")
    if tid is not None and str(tid) not in t.index:
        tid = None
    urls, breaks = context.layers.view(district, building_frame(district, result), spec, t,
                                       chosen)
    patch = map_patch(urls, spec, set(layers or []), basemap)
    patch["data"][TRACE["transformers"]]["marker"]["color"] = transformer_colors(t)
    patch["data"][TRACE["transformers"]]["customdata"] = transformer_custom(t).tolist()
    comm = t["community_battery_kwh"].to_numpy(float)
    patch["data"][TRACE["community"]]["marker"]["size"] = community_sizes(comm)
    patch["data"][TRACE["community"]]["customdata"] = np.round(comm, 0)[:, None].tolist()
    study = cached_study(district, scenario)
    grid_patch(patch, context.layers, district, study, grid_mode or "power-flow",
               set(layers or []), t)
    status = (f"{len(scenario.pv)} PV · {len(scenario.batteries)} batteries · "
              f"{len(scenario.community_batteries)} community · "
              f"{result.summary['pv_kwp']:,.0f} kWp")
    # the Grid tab belongs to this scenario: its own study, or "out of date" (never an
    # earlier scenario's verified figures)
    pf_mode = (grid_mode or "power-flow") if study is not None else "estimate"
    return (patch, kpi_cards(result.summary, baseline.summary), transformer_rows(t, study),
            status,
            not session["undo"], not session["redo"], map_legend(spec, breaks), scenario.name,
            status_text(study, district, scenario), violation_items(study, district),
            feeder_legend(pf_mode, study.limits if study is not None else None),
            transformer_panel(district, scenario, str(tid)) if tid else no_update)


def transformer_panel(district: District, scenario: Scenario, tid: str) -> list:
    """The transformer panel's figures for the scenario on screen: the energy balance, and
    the power flow only if it ran for exactly this scenario (else marked out of date)."""
    from dashboard.ui.gridview import cached_study

    result = dc.evaluate(district, scenario)
    row = result.transformers.loc[tid]
    study = cached_study(district, scenario)
    if study is not None and tid in study.transformers.index:
        p = study.transformers.loc[tid]
        loading = max(p["trafo_loading_max_pct"], p["line_loading_max_pct"])
        limit = f", limit: {p['hosting_limit']}" if p["hosting_limit"] else ""
        grid_line: list = [f"power flow: loading {loading:.0f} % · voltage "
                           f"{p['vm_min_pu']:.3f}–{p['vm_max_pu']:.3f} pu · hosting "
                           f"capacity {_fmt(p['hosting_capacity_kwp'])} kWp (verified{limit})"]
    else:
        grid_line = [html.Span("power flow: out of date, recomputing for this scenario",
                               className="stale-text"), html.Br(),
                     f"hosting capacity {_fmt(row['hosting_capacity_kwp'])} kWp (estimate)"]
    return [html.B(f"Transformer {tid}"), html.Br(),
            f"{row['rating_kva']:,.0f} kVA · {int(row['n_buildings'])} buildings · "
            f"PV {row['pv_kwp']:,.0f} kWp", html.Br(),
            f"max loading {row['loading_pct']:.0f} % · reverse flow "
            f"{row['reverse_flow_hours']:,.0f} h/a (energy balance)", html.Br(),
            *grid_line]


def parse_map_size(size: Any) -> dict[str, float]:
    """The browser's map measurements as framed_view arguments; DecentraError if unusable."""
    if not isinstance(size, dict):
        raise DecentraError("no map size")
    try:
        w, h = float(size["w"]), float(size["h"])
        edges = {k: max(0.0, float(size.get(k) or 0.0)) for k in ("right", "bottom", "left")}
    except (KeyError, TypeError, ValueError):
        raise DecentraError("bad map size") from None
    if not (50 <= w <= 20_000 and 50 <= h <= 20_000):
        raise DecentraError("bad map size")
    return {"width_px": w, "height_px": h, "right_px": min(edges["right"], w / 2),
            "bottom_px": min(edges["bottom"], h / 2), "left_px": min(edges["left"], w / 2)}


def _one(chosen: list[str]) -> str:
    if len(chosen) != 1:
        raise DecentraError("select exactly one building to set its PV")
    return chosen[0]


def _fmt(v: float) -> str:
    return "∞" if not math.isfinite(v) else f"{v:,.0f}"


def selection_from_points(points: list[dict]) -> dict:
    """A transformer from a click on its marker (trace points carry their id as ``text``)."""
    for p in points:
        if p.get("curveNumber") in (TRACE["transformers"], TRACE["community"]) and p.get("text"):
            return {"buildings": [], "transformer": str(p["text"])}
    return {"buildings": [], "transformer": None}


def selection_from_region(base: MapBase, selected: dict) -> dict:
    """Buildings whose representative point lies in a box (``range``) or lasso
    (``lassoPoints``) drawn on the map."""
    ring = None
    box = (selected.get("range") or {}).get("map")
    lasso = (selected.get("lassoPoints") or {}).get("map")
    if box:
        (x0, y0), (x1, y1) = box
        ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    elif lasso and len(lasso) >= 3:
        ring = [tuple(p) for p in lasso]
    if ring is None:
        return {"buildings": [], "transformer": None}
    polygon = shapely.Polygon(ring)
    inside = shapely.contains_xy(polygon, base.b_lon, base.b_lat)
    return {"buildings": [base.building_ids[i] for i in np.flatnonzero(inside)],
            "transformer": None}


def map_patch(urls: Any, spec: Any, show: set[str], basemap: str | None) -> Patch:
    """Layer sources (content-addressed: unchanged layers keep their URL and are left alone
    by plotly), class colours, visibility and base map."""
    patch = Patch()
    layers = patch["layout"]["map"]["layers"]
    colors = spec.colors()
    for i, url in enumerate(urls.classes):
        layers[LAYER.CLASS0 + i]["source"] = url or EMPTY_GEOJSON
        if i < len(colors):
            layers[LAYER.CLASS0 + i]["color"] = colors[i]
    for i, url in enumerate(urls.lines):
        layers[LAYER.LINE0 + i]["source"] = url or EMPTY_GEOJSON
        layers[LAYER.LINE0 + i]["visible"] = "feeders" in show
    layers[LAYER.PV]["source"] = urls.pv or EMPTY_GEOJSON
    layers[LAYER.PV]["visible"] = "pv" in show
    layers[LAYER.BATTERY]["source"] = urls.battery or EMPTY_GEOJSON
    layers[LAYER.BATTERY]["visible"] = "batteries" in show
    layers[LAYER.OSM]["visible"] = basemap == "osm"
    patch["data"][TRACE["transformers"]]["visible"] = "transformers" in show
    patch["data"][TRACE["community"]]["visible"] = "transformers" in show
    return patch


def map_legend(spec: Any, breaks: Any) -> list:
    """Classed colour legend of the building layer (with label and unit for the hover)."""
    items = [html.Span([html.I(style={"background": color}), label],
                       className="class-item") for color, label in legend_items(spec, breaks)]
    return [html.Div(f"{spec.label} [{spec.unit}]", className="legend-head",
                     id="legend-head", **{"data-label": spec.label, "data-unit": spec.unit}),
            *items]
