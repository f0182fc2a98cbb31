"""Callbacks of the sweep section: the sweep runs as a background job (a second or less on the
default district, longer on a large city) and draws its one chart."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.figures.charts import empty_chart, sweep_chart
from dashboard.sweep import penetration_sweep
from dashboard.ui import ids
from dashboard.ui.base import Deps, bind, out
from dashboard.ui.jobs import failure_text

SWEEP = {"figure": Output(ids.SWEEP_CHART, "figure"),
         "status": Output(ids.SWEEP_STATUS, "children")}


def run_sweep(deps: Deps, run: int, session: Any, order: Any, battery: Any) -> dict:
    """The sweep of the district on screen, with the scenario's outage settings."""
    try:
        _, district, scenario = deps.current(session)
        sweep = penetration_sweep(district, order=str(order or "largest roofs first"),
                                  battery_kwh_per_kwp=0.0 if battery is None else battery,
                                  base=dc.Scenario(name="Sweep base", params=scenario.params,
                                                   critical=scenario.critical))
    except DecentraError as err:
        return out(SWEEP, figure=empty_chart(str(err)), status=str(err))
    text = (f"{sweep.attrs['potential_kwp']:,.0f} kWp potential, {len(sweep)} steps in "
            f"{sweep.attrs['seconds']:.1f} s")
    return out(SWEEP, figure=sweep_chart(sweep, subtitle=f"{order}, {battery or 0:g} kWh "
                                         "battery per kWp"), status=text)


def sweep_failed(err: Exception) -> dict:
    return out(SWEEP, status=f"The sweep failed: {failure_text(err)}")


def register(app: Dash, deps: Deps) -> None:
    app.callback(
        output=SWEEP,
        inputs={"run": Input(ids.SWEEP_RUN, "n_clicks")},
        state={"session": State(ids.SESSION, "data"), "order": State(ids.SWEEP_ORDER, "value"),
               "battery": State(ids.SWEEP_BATTERY, "value")},
        background=True, interval=500,
        running=[(Output(ids.SWEEP_RUN, "disabled"), True, False)],
        on_error=sweep_failed, prevent_initial_call=True,
    )(bind(run_sweep, deps))


__all__ = ["register", "run_sweep", "sweep_failed"]
