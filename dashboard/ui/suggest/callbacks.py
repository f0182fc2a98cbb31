"""Callbacks of the Suggest tab: the optimizer runs as a background job (seconds on the
default district, up to two minutes on a 10,000-building city), its scenario opens as the
current one through the background-session store (undoable like an edit), and its steps
are listed with their gain per euro."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Dash, Input, Output, State

from dashboard.domain.errors import DecentraError
from dashboard.suggest import suggest
from dashboard.ui import ids, state
from dashboard.ui.base import Deps, bind, message, out
from dashboard.ui.jobs import failure_text
from dashboard.ui.suggest import logic
from dashboard.ui.suggest.layout import result_view

SUGGEST = {"session": Output(ids.SESSION_BG, "data", allow_duplicate=True),
           "result": Output(ids.SUGGEST_RESULT, "children"),
           "shown_for": Output(ids.SUGGEST_FOR, "data"),
           "status": Output(ids.SUGGEST_STATUS, "children"),
           "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}


def run_suggest(deps: Deps, set_progress: Callable, clicks: Any, session: Any, budget: Any,
                objective: Any, critical: Any) -> dict:
    """Suggest placements on top of the scenario on screen and open them as the current
    scenario."""
    try:
        ask = logic.request(budget, objective, critical)
        sess, district, scenario = deps.current(session)
        sug = suggest(district, ask.budget_eur, ask.objective, start=scenario,
                      critical_only=ask.critical_only,
                      progress=lambda f, m: set_progress((logic.progress_text(f, m),)))
    except DecentraError as err:
        set_progress(("",))
        return out(SUGGEST, status=str(err), result=None)
    set_progress(("",))
    if not sug.steps:
        return out(SUGGEST, result=None, status="Nothing within the budget improves the goal "
                   "(the scenario on screen is unchanged).")
    shown = result_view(logic.summary_text(sug), logic.step_rows(sug))
    pushed = state.push(sess, sug.scenario)
    return out(SUGGEST, session=pushed, result=shown, status="", shown_for=pushed["scenario"],
               message=message(logic.placed_text(sug), "ok"))


CLEAR = {"result": Output(ids.SUGGEST_RESULT, "children", allow_duplicate=True),
         "status": Output(ids.SUGGEST_STATUS, "children", allow_duplicate=True),
         "shown_for": Output(ids.SUGGEST_FOR, "data", allow_duplicate=True)}


def forget_steps(session: Any, shown_for: Any) -> dict:
    """The steps shown belong to the suggested scenario only: once another scenario is on
    screen (an edit, Undo, another district) they are cleared."""
    scenario = session.get("scenario") if isinstance(session, dict) else None
    if shown_for is None or scenario == shown_for:
        return out(CLEAR)
    return out(CLEAR, result=None, shown_for=None,
               status="The scenario on screen has changed since the suggestion; its steps "
                      "are no longer shown.")


def suggest_failed(err: Exception) -> dict:
    """The job failed, timed out or was lost: the tab says so (nothing was changed)."""
    return out(SUGGEST, status=f"The suggestion failed: {failure_text(err)}. Nothing was "
               "changed; try again.")


def register(app: Dash, deps: Deps) -> None:
    app.callback(
        output=SUGGEST,
        inputs={"clicks": Input(ids.SUGGEST_RUN, "n_clicks")},
        state={"session": State(ids.SESSION, "data"),
               "budget": State(ids.SUGGEST_BUDGET, "value"),
               "objective": State(ids.SUGGEST_OBJECTIVE, "value"),
               "critical": State(ids.SUGGEST_CRITICAL, "value")},
        background=True, interval=500,
        running=[(Output(ids.SUGGEST_RUN, "disabled"), True, False),
                 (Output(ids.SUGGEST_BUSY, "className"), "busy on dark", "busy dark")],
        progress=[Output(ids.SUGGEST_PROGRESS, "children")],
        on_error=suggest_failed, prevent_initial_call=True,
    )(bind(run_suggest, deps))
    app.callback(
        output=CLEAR,
        inputs={"session": Input(ids.SESSION, "data")},
        state={"shown_for": State(ids.SUGGEST_FOR, "data")},
        prevent_initial_call=True,
    )(forget_steps)


__all__ = ["forget_steps", "register", "run_suggest", "suggest_failed"]
