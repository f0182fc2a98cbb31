"""The "Data vs assumed" colouring through the planning render callback."""

from __future__ import annotations

from dashboard.figures.maps import COLOR_SPECS, EMPTY_GEOJSON, LAYER


def test_colour_by_data_vs_assumed_callback(deps, session, district):
    from dashboard.ui import ids
    from dashboard.ui.planning import callbacks as planning

    out = planning.render(deps, None, "data_known", ["feeders"], "plain", "plan", session,
                          None, "power-flow", trigger=ids.COLOR_BY)
    legend = str(out["legend"])
    assert "Data vs assumed" in legend and "all assumed" in legend
    assert "storeys, use and demand from data" in legend
    # the default district has no heights, uses or demand: every building in class 0
    spec = COLOR_SPECS["data_known"]
    ops = out["figure"].to_plotly_json()["operations"]
    sources = {tuple(op["location"]): op["params"]["value"] for op in ops
               if op["location"][-1] == "source"}
    cls = [sources[("layout", "map", "layers", LAYER.CLASS0 + i, "source")] for i in range(4)]
    assert isinstance(cls[0], str) and all(c == EMPTY_GEOJSON for c in cls[1:])
    colours = [op["params"]["value"] for op in ops if op["location"][-1] == "color"
               and op["location"][3] == LAYER.CLASS0]
    assert colours == [spec.colors()[0]]
