"""The Saved tab (save, share, files, the workspace's scenarios) and the comparison view."""

from __future__ import annotations

from dash import dcc, html

from dashboard.domain.scenario import MAX_SCENARIO_JSON_BYTES
from dashboard.ui import ids
from dashboard.ui.widgets import button


def saved_tab() -> html.Div:
    return html.Div([
        html.Div([button(ids.SAVE, "Save"), button(ids.SAVE_NEW, "Save as new", "ghost"),
                  html.Button("Download JSON", id=ids.DOWNLOAD_JSON, n_clicks=0,
                              className="btn ghost"),
                  dcc.Upload(html.Button("Upload JSON", className="btn ghost", n_clicks=0),
                             id=ids.UPLOAD, accept=".json,application/json",
                             max_size=MAX_SCENARIO_JSON_BYTES, className="upload")],
                 className="actions"),
        html.Div([html.Span("Share link", className="field-label"),
                  html.Div([dcc.Input(id=ids.SHARE_URL, value="", readOnly=True,
                                      className="num share", placeholder="save to get a link"),
                            dcc.Clipboard(target_id=ids.SHARE_URL, id=ids.SHARE_COPY,
                                          className="copy", title="copy the link")],
                           className="field-input")], className="field share-box"),
        html.P("The share link opens a read-only copy: whoever opens it can save their own "
               "copy, never change yours.", className="hint small"),
        html.H4("Saved scenarios of this district (your workspace)"),
        html.Div(id=ids.SAVED_LIST, className="saved-list"),
        html.P("Compare (top bar) puts 2–4 of these, and the current scenario, side by side.",
               className="hint"),
        html.Div([html.Span("Workspace link", className="field-label"),
                  html.Div([dcc.Input(id=ids.WORKSPACE_URL, value="", readOnly=True,
                                      className="num share"),
                            dcc.Clipboard(target_id=ids.WORKSPACE_URL, id=ids.WORKSPACE_COPY,
                                          className="copy", title="copy the link")],
                           className="field-input")], className="field share-box"),
        html.P("Your saved scenarios belong to this browser's workspace. The workspace link "
               "opens them in another browser — keep it private, like a password.",
               className="hint small"),
    ], className="tab-body")


def compare_view() -> html.Div:
    return html.Div([
        html.Div([html.H2("Compare scenarios"),
                  dcc.Dropdown(id=ids.COMPARE_PICK, multi=True, placeholder="Pick 2–4 saved "
                               "scenarios", className="compare-pick"),
                  button(ids.COMPARE_CLOSE, "Back to the map", "ghost")],
                 className="compare-head"),
        html.Div(id=ids.COMPARE_BODY, className="compare-body"),
    ], className="compare-view", id="compare-view")
