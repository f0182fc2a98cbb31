"""The page: the top bar, the map dominant on the left, the KPI strip and the tabs of the
features on the right, and the stores every feature shares."""

from __future__ import annotations

from dash import dcc, html

from dashboard.ui import ids
from dashboard.ui.assumptions.layout import assumptions_tab
from dashboard.ui.export.layout import export_tab
from dashboard.ui.grid.layout import transformer_tab
from dashboard.ui.importing.layout import import_dialog
from dashboard.ui.planning.layout import details_tab, map_pane, placement_panel
from dashboard.ui.present.layout import present_overlay
from dashboard.ui.scenarios.layout import compare_view, saved_tab
from dashboard.ui.suggest.layout import suggest_tab
from dashboard.ui.sweep.layout import sweep_section
from dashboard.ui.widgets import button


def credits(meta: dict[str, str] | None = None) -> list:
    """Sources and licences of the district on screen (from its meta)."""
    meta = meta or {}
    if not meta.get("description", "").startswith("Imported"):
        return ["Weather DWD TRY2010 · loads BDEW/demandlib · PV pvlib · buildings © ",
                html.A("OpenStreetMap contributors", href="https://www.openstreetmap.org/"
                       "copyright", target="_blank"), " (ODbL) · feeders synthesized"]
    return [f"Buildings: {meta.get('buildings_source', '?')} · weather: "
            f"{meta.get('weather_source', '?')} · grid: {meta.get('network_source', '?')} · "
            "loads BDEW/demandlib · PV pvlib"]


def top_bar(district_name: str, synthetic: bool, imported: bool) -> html.Header:
    return html.Header([
        html.A([html.Img(src="/assets/logo.svg", className="logo", alt=""),
                html.Span("Decentra", className="brand")], className="brand-box", href="/",
               title="back to the embedded district"),
        html.Div([html.Span(district_name, className="district", title=district_name),
                  html.Span("synthetic", className="badge") if synthetic else None,
                  html.Span("imported", className="badge imported") if imported else None],
                 className="district-box"),
        html.Div([
            dcc.Input(id=ids.SCENARIO_NAME, value="Untitled scenario", debounce=True,
                      className="scenario-name", maxLength=200),
            html.Span(id=ids.SCENARIO_STATUS, className="status"),
        ], className="scenario-box"),
        html.Div([button(ids.UNDO, "↶ Undo", "ghost"), button(ids.REDO, "↷ Redo", "ghost"),
                  button(ids.RESET, "Reset", "ghost"),
                  html.Span(className="sep"),
                  button(ids.COMPARE, "Compare", "ghost"),
                  button(ids.PRESENT, "Present", "ghost"),
                  button(ids.IMPORT_OPEN, "Import city", "ghost"),
                  html.Span(className="busy", id=ids.BUSY, title="computing")],
                 className="history"),
    ], className="topbar")


def stores(session: dict) -> list:
    return [
        dcc.Store(id=ids.SESSION, data=session, storage_type="memory"),
        dcc.Store(id=ids.SELECTION, data={"buildings": [], "transformer": None}),
        dcc.Store(id=ids.MAP_CLICK, data=None),
        dcc.Store(id=ids.MAP_REGION, data=None),
        dcc.Store(id=ids.MAP_SIZE, data=None),
        dcc.Store(id=ids.SESSION_BG, data=None),
        dcc.Store(id=ids.VIEW, data="plan"),
        dcc.Store(id=ids.PRESENT_ORIGIN, data=None),
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Download(id=ids.DOWNLOAD),   # outside the tabs: hidden tabs are not rendered
        dcc.Store(id=ids.SAVED_ACTION, data=None),
        dcc.Store(id=ids.PENDING_DELETE, data=None),
        dcc.Store(id=ids.GRID_STORE, data=None),
        dcc.Store(id=ids.GRID_TRIGGER, data=None),
        dcc.ConfirmDialog(id=ids.CONFIRM_DELETE, message=""),
    ]


def page(district_name: str, synthetic: bool, figure: object, session: dict,
         basemap: str, meta: dict[str, str] | None = None,
         notice: html.Div | None = None) -> html.Div:
    imported = (meta or {}).get("description", "").startswith("Imported")
    side = html.Aside([
        dcc.Tabs([
            dcc.Tab(placement_panel(), label="Place", value="place", id="tab-place"),
            dcc.Tab(suggest_tab(), label="Suggest", value="suggest", id="tab-suggest"),
            dcc.Tab(transformer_tab(), label="Grid", value="transformers",
                    id="tab-transformers"),
            dcc.Tab(html.Div([details_tab(), sweep_section()]), label="Details",
                    value="details", id="tab-details"),
            dcc.Tab(assumptions_tab(), label="Inputs", value="assumptions",
                    id="tab-assumptions"),
            dcc.Tab(saved_tab(), label="Saved", value="saved", id="tab-saved"),
            dcc.Tab(export_tab(), label="Export", value="export", id="tab-export"),
        ], value="place", className="tabs", id=ids.TABS, parent_className="side-tabs",
            content_className="side-tab-content"),
        html.Footer(credits(meta), className="credits"),
    ], className="side")
    # the KPI strip runs along the top of the map: every figure in one row, the side panel
    # free for the controls the planner uses next
    plan = html.Div([html.Div(id=ids.KPIS, className="kpis"),
                     map_pane(figure, basemap, notice, present_overlay())], className="map-col")
    body = html.Div([plan, side, compare_view()], className="main")
    return html.Div([*stores(session), top_bar(district_name, synthetic, imported), body,
                     import_dialog()], className="app view-plan", id=ids.APP)


__all__ = ["credits", "page"]
