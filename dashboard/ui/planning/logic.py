"""Planning without Dash: the edits a planner makes (district, scenario, form values → new
scenario), and what shows a scenario (map patch, KPI strip, panels) as plain values.

Every user number goes through :func:`dashboard.domain.validate.number`; a bad value raises
DecentraError with a message for the user and the caller keeps the previous scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from dash import Patch, html

import dashboard as dc
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import NONE_MARKED, format_value
from dashboard.domain.scenario import (
    BatteryPlacement,
    CommunityBattery,
    CriticalMark,
    PvPlacement,
    Scenario,
)
from dashboard.domain.validate import number
from dashboard.figures.maps import (
    COLOR_SPECS,
    EMPTY_GEOJSON,
    LAYER,
    LINE_CLASSES,
    TRACE,
    VOLTAGE_CLASSES,
    MapBase,
    community_sizes,
    legend_items,
    transformer_colors,
    transformer_custom,
)
from dashboard.ui import ids, state
from dashboard.ui.base import Deps
from dashboard.ui.formats import kpi_strip, value_text
from dashboard.ui.grid import logic as grid

MAX_BATTERY_KWH_PER_BUILDING = 10_000.0
MAX_COMMUNITY_KWH = 100_000.0


# ---- edits ---------------------------------------------------------------------------------
def max_kwp(district: District, roof_area_m2: float) -> float:
    """PV that fits on a roof at full coverage [kWp]."""
    return roof_area_m2 / district.assumptions.number("pv.module_area_m2_per_kwp")


def _building(district: District, building_id: object) -> dict:
    match = district.buildings.loc[district.buildings["building_id"] == str(building_id)]
    if match.empty:
        raise DecentraError(f"building {building_id!r} is not in this district")
    return match.iloc[0].to_dict()


def _ids(district: District, building_ids: Sequence[object]) -> list[str]:
    chosen = [str(b) for b in building_ids]
    if not chosen:
        raise DecentraError("select one or more buildings first")
    known = set(district.buildings["building_id"].astype(str))
    missing = [b for b in chosen if b not in known]
    if missing:
        raise DecentraError("some selected buildings are not in this district", rows=missing)
    return list(dict.fromkeys(chosen))


def set_pv(district: District, scenario: Scenario, building_id: object, kwp: object,
           tilt_deg: object, azimuth_deg: object) -> Scenario:
    row = _building(district, building_id)
    limit = max_kwp(district, row["roof_area_m2"])
    if limit <= 0:
        raise DecentraError(f"building {building_id} has no roof area for PV")
    size = number(kwp, "PV size [kWp]", 0, limit, lo_open=True)
    tilt = number(tilt_deg, "Tilt [°]", 0, 90)
    az = number(azimuth_deg, "Azimuth [°]", 0, 360)
    return scenario.with_pv(PvPlacement(str(building_id), round(size, 3), tilt, az % 360))


def remove_pv(district: District, scenario: Scenario, building_ids: Sequence[object]) -> Scenario:
    return scenario.without_pv(*_ids(district, building_ids))


def set_battery(district: District, scenario: Scenario, building_ids: Sequence[object],
                kwh: object, kw: object) -> Scenario:
    chosen = _ids(district, building_ids)
    cap = number(kwh, "Battery capacity [kWh]", 0, MAX_BATTERY_KWH_PER_BUILDING, lo_open=True)
    power = number(kw, "Battery power [kW]", 0, 10 * cap, lo_open=True)
    return scenario.with_battery(*[BatteryPlacement(i, cap, power) for i in chosen])


def remove_battery(district: District, scenario: Scenario,
                   building_ids: Sequence[object]) -> Scenario:
    return scenario.without_battery(*_ids(district, building_ids))


def set_critical(district: District, scenario: Scenario, building_ids: Sequence[object],
                 critical: bool) -> Scenario:
    """Mark buildings as critical facilities (or not). Where the district's own flag already
    says so, the planner's mark is dropped instead of repeated."""
    chosen = _ids(district, building_ids)
    own = dict(zip(district.buildings["building_id"].astype(str),
                   district.buildings["critical"].astype(bool), strict=True))
    same = [i for i in chosen if bool(own[i]) == critical]
    other = [CriticalMark(i, critical) for i in chosen if bool(own[i]) != critical]
    return scenario.without_critical(*same).with_critical(*other)


def remove_all(district: District, scenario: Scenario, building_ids: Sequence[object]) -> Scenario:
    chosen = _ids(district, building_ids)
    return scenario.without_pv(*chosen).without_battery(*chosen)


def pv_on_buildings(district: District, scenario: Scenario, building_ids: Sequence[object],
                    coverage_pct: object) -> Scenario:
    """PV on each selected roof at ``coverage_pct`` % of its area, oriented like the roof."""
    chosen = _ids(district, building_ids)
    cov = number(coverage_pct, "Roof coverage [%]", 0, 100, lo_open=True) / 100.0
    return dc.place_pv_by_rule(district, scenario, min_roof_m2=0.0, coverage=cov,
                               building_ids=chosen)


def apply_rule(district: District, scenario: Scenario, min_roof_m2: object,
               coverage_pct: object) -> Scenario:
    """PV on every roof of at least ``min_roof_m2`` at ``coverage_pct`` %."""
    roof = number(min_roof_m2, "Minimum roof area [m²]", 0, 1e6)
    cov = number(coverage_pct, "Roof coverage [%]", 0, 100, lo_open=True) / 100.0
    largest = float(district.buildings["roof_area_m2"].max())
    if roof > largest:
        raise DecentraError(f"no roof is that large: the largest roof of this district is "
                            f"{largest:,.0f} m²")
    new = dc.place_pv_by_rule(district, scenario, min_roof_m2=roof, coverage=cov)
    if new is scenario:
        raise DecentraError(f"every roof of at least {roof:,.0f} m² already has that PV")
    return new


def set_community(district: District, scenario: Scenario, transformer_id: object, kwh: object,
                  kw: object, mode: object = None, import_limit: object = None,
                  export_limit: object = None) -> Scenario:
    """A community battery; in peak-shaving ``mode`` with the transformer's import / export
    limits [kW] (blank: none on that side)."""
    tid = str(transformer_id)
    if tid not in set(district.transformers["transformer_id"].astype(str)):
        raise DecentraError(f"transformer {tid!r} is not in this district")
    cap = number(kwh, "Community battery capacity [kWh]", 0, MAX_COMMUNITY_KWH, lo_open=True)
    power = number(kw, "Community battery power [kW]", 0, 10 * cap, lo_open=True)
    if mode != "peak_shaving":
        return scenario.with_community_battery(CommunityBattery(tid, cap, power))
    imp, exp = (None if v in (None, "") else number(v, f"{what} limit [kW]", 0, 1e7)
                for v, what in ((import_limit, "Import"), (export_limit, "Export")))
    return scenario.with_community_battery(CommunityBattery(tid, cap, power, "peak_shaving",
                                                            imp, exp))


def set_pv_limit(scenario: Scenario, percent: object) -> Scenario:
    """The PV export limit of every PV system, in % of its kWp (blank: no limit)."""
    if percent in (None, ""):
        return scenario.with_params(pv_export_limit_share=None)
    share = number(percent, "PV export limit [% of kWp]", 0, 100) / 100.0
    return scenario.with_params(pv_export_limit_share=share)


def edit_warning(district: District, scenario: Scenario, trigger: str) -> str | None:
    """The plausibility warning an edit gets (a community battery far beyond its area)."""
    if trigger != ids.COMM_APPLY:
        return None
    found = dc.battery_warnings(district, scenario)
    return ("Check this battery: " + "; ".join(found) + ".") if found else None


def remove_community(district: District, scenario: Scenario, transformer_id: object) -> Scenario:
    del district
    return scenario.without_community_battery(str(transformer_id))


@dataclass(frozen=True)
class Form:
    """The values of the placement panels when an edit button is pressed."""

    selection: Mapping[str, Any]
    pv_kwp: Any = None
    pv_tilt: Any = None
    pv_azimuth: Any = None
    bat_kwh: Any = None
    bat_kw: Any = None
    coverage: Any = None
    sel_kwh: Any = None
    sel_kw: Any = None
    comm_kwh: Any = None
    comm_kw: Any = None
    comm_mode: Any = None
    comm_import: Any = None
    comm_export: Any = None
    pv_limit: Any = None
    name: Any = None

    @property
    def buildings(self) -> list[str]:
        return [str(b) for b in (self.selection or {}).get("buildings") or []]

    @property
    def transformer(self) -> Any:
        return (self.selection or {}).get("transformer")


def one_building(chosen: list[str]) -> str:
    if len(chosen) != 1:
        raise DecentraError("select exactly one building to set its PV")
    return chosen[0]


def edited(trigger: str, district: District, scenario: Scenario, form: Form) -> Scenario:
    """The scenario an edit button makes (undo, redo and renaming are session steps, not
    edits). Raises DecentraError for a bad value or an unknown button."""
    b, tid = form.buildings, form.transformer
    handlers: dict[str, Callable[[], Scenario]] = {
        ids.PV_APPLY: lambda: set_pv(district, scenario, one_building(b), form.pv_kwp,
                                     form.pv_tilt, form.pv_azimuth),
        ids.PV_REMOVE: lambda: remove_pv(district, scenario, b),
        ids.BAT_APPLY: lambda: set_battery(district, scenario, b, form.bat_kwh, form.bat_kw),
        ids.BAT_REMOVE: lambda: remove_battery(district, scenario, b),
        ids.SEL_PV_APPLY: lambda: pv_on_buildings(district, scenario, b, form.coverage),
        ids.SEL_BAT_APPLY: lambda: set_battery(district, scenario, b, form.sel_kwh,
                                               form.sel_kw),
        ids.SEL_REMOVE: lambda: remove_all(district, scenario, b),
        ids.COMM_APPLY: lambda: set_community(district, scenario, tid, form.comm_kwh,
                                              form.comm_kw, form.comm_mode, form.comm_import,
                                              form.comm_export),
        ids.PV_LIMIT_APPLY: lambda: set_pv_limit(scenario, form.pv_limit),
        ids.COMM_REMOVE: lambda: remove_community(district, scenario, tid),
        ids.CRIT_MARK: lambda: set_critical(district, scenario, b, True),
        ids.CRIT_UNMARK: lambda: set_critical(district, scenario, b, False),
        ids.SEL_CRIT_MARK: lambda: set_critical(district, scenario, b, True),
        ids.SEL_CRIT_UNMARK: lambda: set_critical(district, scenario, b, False),
        ids.RESET: lambda: Scenario(name=scenario.name),
    }
    if trigger not in handlers:
        raise DecentraError("that button does not edit the scenario")
    new = handlers[trigger]()
    dc.validate(district, new)
    return new


# ---- showing a scenario --------------------------------------------------------------------
def status_line(scenario: Scenario, summary: Mapping[str, float]) -> str:
    return (f"{len(scenario.pv)} PV · {len(scenario.batteries)} batteries · "
            f"{len(scenario.community_batteries)} community · "
            f"{value_text('pv_kwp', summary.get('pv_kwp'))}")


def view(deps: Deps, session: Mapping[str, Any], color_key: str | None,
         layers: Sequence[str] | None, basemap: str | None, selection: Mapping | None,
         grid_mode: str | None, clean: bool = False) -> dict[str, Any]:
    """Everything that shows the session's scenario, by output name: map patch, KPI strip,
    transformer rows, status line, undo / redo, legend, name, and the Grid tab's status,
    violations, legend and transformer panel — the power flow's only if it ran for exactly
    this scenario, else marked out of date (never an earlier scenario's as verified).
    Raises DecentraError."""


    district = deps.district(session["district"])
    scenario = state.get_scenario(session["scenario"])
    result = dc.evaluate(district, scenario)
    spec = COLOR_SPECS.get(color_key or "") or COLOR_SPECS["self_sufficiency"]
    t = result.transformers
    chosen = list((selection or {}).get("buildings") or [])
    tid = (selection or {}).get("transformer")
    urls, breaks = deps.layers.view(district, grid.building_frame(district, result), spec, t,
                                    chosen)
    patch = map_patch(urls, spec, set(layers or []), basemap)
    marker_patch(patch, t)
    study = grid.cached_study(district, scenario)
    grid.grid_patch(patch, deps.layers, district, study, grid_mode or "power-flow",
                    set(layers or []), t)
    if clean:                  # presentation: buildings, PV and storage; no grid detail
        clean_patch(patch)
    return {
        "figure": patch, "kpis": kpi_strip(result.summary, dc.baseline(district).summary),
        "table": grid.transformer_rows(t, study), "status": status_line(scenario,
                                                                         result.summary),
        "undo": not session["undo"], "redo": not session["redo"],
        "legend": map_legend(spec, breaks), "name": scenario.name,
        "grid_status": grid.status_text(study, district, scenario),
        "violations": grid.violation_items(study, district),
        "grid_legend": grid.feeder_legend((grid_mode or "power-flow") if study is not None
                                          else "estimate",
                                          study.limits if study is not None else None),
        "transformer_info": grid.transformer_panel(district, scenario, str(tid))
        if tid is not None and str(tid) in t.index else None,
    }


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
    layers[LAYER.CRITICAL]["source"] = urls.critical or EMPTY_GEOJSON
    layers[LAYER.CRITICAL]["visible"] = "critical" in show
    layers[LAYER.OSM]["visible"] = basemap == "osm"
    patch["data"][TRACE["transformers"]]["visible"] = "transformers" in show
    patch["data"][TRACE["community"]]["visible"] = "transformers" in show
    return patch


def clean_patch(patch: Patch) -> None:
    """The map a council sees: feeders, bus dots, transformer dots and the selection outline
    hidden; buildings, PV, batteries and community storage stay."""
    layers = patch["layout"]["map"]["layers"]
    patch["data"][TRACE["transformers"]]["visible"] = False
    for i in range(len(LINE_CLASSES)):
        layers[LAYER.LINE0 + i]["visible"] = False
    for i in range(len(VOLTAGE_CLASSES)):
        layers[LAYER.BUS0 + i]["visible"] = False
    layers[LAYER.SELECTION]["source"] = EMPTY_GEOJSON


def marker_patch(patch: Patch, transformers: Any) -> None:
    """Transformer colours and community battery markers of the scenario."""
    patch["data"][TRACE["transformers"]]["marker"]["color"] = transformer_colors(transformers)
    patch["data"][TRACE["transformers"]]["customdata"] = transformer_custom(
        transformers).tolist()
    comm = transformers["community_battery_kwh"].to_numpy(float)
    patch["data"][TRACE["community"]]["marker"]["size"] = community_sizes(comm)
    patch["data"][TRACE["community"]]["customdata"] = np.round(comm, 0)[:, None].tolist()


def map_legend(spec: Any, breaks: Any) -> list:
    """Classed colour legend of the building layer (with label and unit for the hover)."""
    items = [html.Span([html.I(style={"background": color}), label],
                       className="class-item") for color, label in legend_items(spec, breaks)]
    return [html.Div(f"{spec.label} [{spec.unit}]", className="legend-head",
                     id="legend-head", **{"data-label": spec.label, "data-unit": spec.unit}),
            *items]


# ---- selection -----------------------------------------------------------------------------
NO_SELECTION: dict[str, Any] = {"buildings": [], "transformer": None}


def selection_from_points(points: list[dict]) -> dict:
    """A transformer from a click on its marker (trace points carry their id as ``text``)."""
    for p in points:
        if p.get("curveNumber") in (TRACE["transformers"], TRACE["community"]) and p.get("text"):
            return {"buildings": [], "transformer": str(p["text"])}
    return dict(NO_SELECTION)


def selection_from_click(click: Mapping | None, current: Mapping | None) -> dict | None:
    """A building click (shift-click toggles it in the selection); None: nothing to do."""
    bid = (click or {}).get("building")
    if not bid:
        return None
    prev = list((current or {}).get("buildings") or [])
    if (click or {}).get("shift"):
        chosen = [b for b in prev if b != bid] if bid in prev else [*prev, str(bid)]
        return {"buildings": chosen, "transformer": None}
    return {"buildings": [str(bid)], "transformer": None}


def selection_from_region(base: MapBase, selected: Mapping) -> dict:
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
        return dict(NO_SELECTION)
    inside = shapely.contains_xy(shapely.Polygon(ring), base.b_lon, base.b_lat)
    return {"buildings": [base.building_ids[i] for i in np.flatnonzero(inside)],
            "transformer": None}


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


# ---- the panels ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    """Which placement panel shows and what it says; the form defaults it fills."""

    which: str                      # "none", "single", "multi", "transformer"
    title: str
    info: list | None = None
    defaults: Mapping[str, Any] | None = None


def panel_for(district: District, scenario: Scenario, selection: Mapping | None) -> Panel:
    chosen = [str(b) for b in (selection or {}).get("buildings") or []]
    tid = (selection or {}).get("transformer")
    if tid:
        comm = scenario.community_battery_of(str(tid))
        return Panel("transformer", f"Transformer {tid}", None,
                     {"comm_kwh": comm.capacity_kwh if comm else 200,
                      "comm_kw": comm.power_kw if comm else 100,
                      "comm_mode": comm.mode if comm else "self_consumption",
                      "comm_import": comm.import_limit_kw if comm else None,
                      "comm_export": comm.export_limit_kw if comm else None})
    if len(chosen) == 1:
        rows = district.buildings.loc[district.buildings["building_id"] == chosen[0]]
        if rows.empty:
            return Panel("none", "Nothing selected")
        row = rows.iloc[0]
        pv, bat = scenario.pv_of(chosen[0]), scenario.battery_of(chosen[0])
        info = [html.B(f"Building {chosen[0]}"), f" · {row['use_type']}", html.Br(),
                critical_text(row, scenario.critical_of(chosen[0])), html.Br(),
                f"roof {row['roof_area_m2']:,.0f} m² · potential "
                f"{row['pv_potential_kwp']:,.1f} kWp (max "
                f"{max_kwp(district, row['roof_area_m2']):,.1f} at full coverage)",
                html.Br(), f"{row['storeys']:.0f} storeys"
                f"{' (assumed)' if row['storeys_assumed'] else ''} · demand "
                f"{row['annual_demand_kwh'] / 1000:,.1f} MWh/a"
                f"{' (assumed)' if row['demand_assumed'] else ''}"]
        return Panel("single", f"Building {chosen[0]}", info, {
            "pv_kwp": round(pv.kwp if pv else float(row["pv_potential_kwp"]), 1),
            "pv_tilt": pv.tilt_deg if pv else float(row["roof_tilt_deg"]),
            "pv_azimuth": pv.azimuth_deg if pv else float(row["azimuth_deg"]),
            "bat_kwh": bat.capacity_kwh if bat else 10, "bat_kw": bat.power_kw if bat else 5})
    if chosen:
        b = district.buildings[district.buildings["building_id"].isin(chosen)]
        info = [html.B(f"{len(chosen)} buildings selected"), html.Br(),
                f"roofs {b['roof_area_m2'].sum():,.0f} m² · potential "
                f"{b['pv_potential_kwp'].sum():,.0f} kWp · demand "
                f"{b['annual_demand_kwh'].sum() / 1000:,.0f} MWh/a"]
        return Panel("multi", f"{len(chosen)} buildings", info)
    return Panel("none", "Nothing selected")


def critical_text(row: Mapping[str, Any], mark: bool | None) -> str:
    """Whether a building is a critical facility, and on whose word."""
    own = bool(row.get("critical", False))
    reason = str(row.get("critical_reason", "") or "")
    if mark is None:
        return (f"Critical facility ({reason or 'district data'})" if own
                else "Not a critical facility")
    if mark:
        return "Critical facility (marked by you)"
    return f"Not a critical facility (unmarked by you; district data: {reason or 'critical'})"


HUB_HEADERS = {"building_id": "Building", "use_type": "Use", "reason": "Why critical",
               "critical_load_fraction": "Critical load", "survival_min_h": "Survival, worst",
               "survival_mean_h": "Survival, mean", "p_survive_24h": "P(24 h)",
               "p_survive_72h": "P(72 h)", "pv_kwp": "PV", "battery_kwh": "Battery"}


def hub_rows(hubs: Any) -> list[dict[str, str]]:
    """The resilience hubs table (:func:`dashboard.critical_facilities`) as text rows, in
    its order (worst first)."""
    rows = []
    for rec in hubs.to_dict("records"):
        rows.append({
            "building_id": str(rec["building_id"]), "use_type": str(rec["use_type"]),
            "reason": str(rec["reason"]),
            "critical_load_fraction": f"{100 * rec['critical_load_fraction']:.0f} %",
            "survival_min_h": format_value("survival_min_h", rec["survival_min_h"]),
            "survival_mean_h": format_value("survival_mean_h", rec["survival_mean_h"]),
            "p_survive_24h": format_value("p_survive_24h", rec["p_survive_24h"]),
            "p_survive_72h": format_value("p_survive_72h", rec["p_survive_72h"]),
            "pv_kwp": format_value("pv_kwp", rec["pv_kwp"]),
            "battery_kwh": format_value("battery_kwh", rec["battery_kwh"]),
        })
    return rows


def hubs_view(hubs: Any) -> html.Div:
    """The "Resilience hubs" section: a table of critical facilities, worst first, or a line
    saying none is marked."""
    if len(hubs) == 0:
        return html.Div([html.P(f"Critical facilities: {NONE_MARKED}. Select a building "
                                "and press \"Mark critical\" to make it one.",
                                className="hint")], className="hubs")
    rows = hub_rows(hubs)
    head = html.Tr([html.Th(HUB_HEADERS[k]) for k in HUB_HEADERS])
    body = [html.Tr([html.Td(r[k]) for k in HUB_HEADERS]) for r in rows]
    what = "1 critical facility" if len(rows) == 1 else f"{len(rows):,} critical facilities"
    return html.Div([html.P(f"{what}, worst first (outages from "
                            "every hour of the year; each serves its critical load from its "
                            "own PV and battery).", className="hint"),
                     html.Table([html.Thead(head), html.Tbody(body)], className="hubs-table")],
                    className="hubs")


def fmt_kwp(v: float) -> str:
    return "∞" if not math.isfinite(v) else f"{v:,.0f}"


def overtaken(session_bg: Any, session: Any) -> bool:
    """A background job's session (a rule or a suggestion pushed onto the scenario it started
    from) that the planner has edited past meanwhile: same district, but the scenario it was
    pushed onto is no longer the one on screen. Applying it would drop those edits."""
    if not (isinstance(session_bg, dict) and isinstance(session, dict)):
        return False
    undo = session_bg.get("undo") or []
    if session_bg.get("district") != session.get("district") or not undo:
        return False
    return session_bg.get("scenario") != session.get("scenario") \
        and undo[-1] != session.get("scenario")


__all__ = [
    "Form",
    "Panel",
    "apply_rule",
    "critical_text",
    "edited",
    "hub_rows",
    "hubs_view",
    "map_legend",
    "map_patch",
    "max_kwp",
    "overtaken",
    "panel_for",
    "parse_map_size",
    "selection_from_click",
    "selection_from_points",
    "selection_from_region",
    "set_critical",
    "set_pv",
    "view",
]
