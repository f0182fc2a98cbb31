"""The Suggest tab: a budget and a goal in, an explained scenario out (the optimizer,
:func:`dashboard.suggest.suggest`, run as a background job)."""

from __future__ import annotations

from dash import dcc, html

from dashboard.ui import ids
from dashboard.ui.suggest.logic import DEFAULT_BUDGET_EUR, OBJECTIVE_LABELS
from dashboard.ui.widgets import button, number_field

STEP_COLUMNS = (("n", "#"), ("what", "What"), ("cost", "Cost"), ("gain", "Gain"),
                ("per_keur", "Gain per 1,000 €"))
MAX_ROWS = 200                 # steps listed in the tab (a city's suggestion can have more)


def suggest_tab() -> html.Div:
    return html.Div([
        html.H3("Suggest placements"),
        html.P("State a budget (capex added) and a goal: Decentra places rooftop PV and "
               "batteries on top of the scenario on screen, step by step where a euro gains "
               "most, never beyond a "
               "transformer's hosting capacity. The result opens as the current scenario — "
               "edit, save or compare it; Undo goes back.", className="hint"),
        html.Label([html.Span("Goal", className="field-label"),
                    dcc.Dropdown(id=ids.SUGGEST_OBJECTIVE, value="self_sufficiency",
                                 clearable=False, searchable=False, className="week",
                                 options=[{"label": v, "value": k}
                                          for k, v in OBJECTIVE_LABELS.items()])],
                   className="field"),
        html.Div([
            number_field(ids.SUGGEST_BUDGET, DEFAULT_BUDGET_EUR, "€", "Budget"),
            dcc.Checklist(id=ids.SUGGEST_CRITICAL, className="radio critical-only", value=[],
                          options=[{"label": " Only on critical facilities",
                                    "value": "critical"}]),
        ], className="row2"),
        html.Div([button(ids.SUGGEST_RUN, "Suggest"),
                  html.Span(className="busy dark", id=ids.SUGGEST_BUSY, title="searching"),
                  html.Span(id=ids.SUGGEST_PROGRESS, className="progress-text")],
                 className="actions"),
        html.P(id=ids.SUGGEST_STATUS, className="hint"),
        html.Div(id=ids.SUGGEST_RESULT, className="suggest-result"),
        dcc.Store(id=ids.SUGGEST_FOR, data=None),
    ], className="tab-body suggest")


def result_view(summary: str, rows: list[dict[str, str]]) -> html.Div:
    """What was placed, step by step, with the gain per euro of each step."""
    head = html.Tr([html.Th(label) for _, label in STEP_COLUMNS])
    body = [html.Tr([html.Td(row[key]) for key, _ in STEP_COLUMNS])
            for row in rows[:MAX_ROWS]]
    more = (html.P(f"… and {len(rows) - MAX_ROWS:,} more steps (all in the scenario's notes).",
                   className="hint small") if len(rows) > MAX_ROWS else None)
    return html.Div([
        html.P(summary, className="info"),
        html.Table([html.Thead(head), html.Tbody(body)], className="steps-table"), more,
        html.P("The scenario keeps this explanation in its notes (saved with it, in its "
               "JSON).",
               className="hint small"),
    ])


__all__ = ["STEP_COLUMNS", "result_view", "suggest_tab"]
