"""Charts of hourly series and outage survival. No Dash imports, no energy computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
# the map's colour language: PV yellow, storage purple, export (upstream, reverse flow) blue
COLORS = {"demand": "#1f2933", "pv": "#f5b700", "battery": "#7048e8", "import": "#52606d",
          "export": "#3b7dd8", "pooled": "#7048e8", "building": "#0f766e"}

# (label, start day of year) of the weeks offered in the detail chart
WEEKS = {"winter": ("Winter week (from 14 Jan)", 13), "spring": ("Spring week (from 15 Apr)", 104),
         "summer": ("Summer week (from 15 Jul)", 195), "autumn": ("Autumn week (from 14 Oct)", 286)}


def _layout(title: str, ytitle: str, subtitle: str = "") -> dict:
    """Title on its own line (and a smaller subtitle under it), legend under the plot: nothing
    cut at the side panel's width."""
    text = f"{title}<br><span style='font-size:11px;color:#616e7c'>{subtitle}</span>" \
        if subtitle else title
    return dict(
        title={"text": text, "font": {"size": 13}, "x": 0.01, "xanchor": "left", "y": 0.97,
               "yanchor": "top"},
        margin={"l": 44, "r": 10, "t": 52 if subtitle else 34, "b": 30}, height=300,
        font={"family": FONT, "size": 11},
        legend={"orientation": "h", "y": -0.16, "x": 0, "font": {"size": 11}},
        yaxis={"title": {"text": ytitle}, "gridcolor": "#e4e7eb", "zerolinecolor": "#9aa5b1"},
        xaxis={"gridcolor": "#f0f2f5"}, plot_bgcolor="white", paper_bgcolor="white",
        hovermode="x unified")


def week_chart(hourly: pd.DataFrame, title: str, week: str = "summer",
               typical_day: bool = False) -> go.Figure:
    """Demand, PV, battery and grid of one week (or the average day of that season)."""
    _, start_day = WEEKS.get(week, WEEKS["summer"])
    if typical_day:   # 4 weeks around the chosen one, wrapping round the year's ends
        hours = (start_day * 24 + np.arange(-14 * 24, 14 * 24)) % len(hourly)
        window = hourly.iloc[hours]
        data = window.groupby(window.index.hour).mean()
        x = list(data.index)                       # hour of the day, labelled every 3 h
        subtitle = "average day of the 4 weeks around it"
    else:
        data = hourly.iloc[start_day * 24: start_day * 24 + 7 * 24]
        x = data.index.tz_localize(None) if data.index.tz is not None else data.index
        subtitle = WEEKS.get(week, WEEKS["summer"])[0]
    fig = go.Figure()
    fig.add_scatter(x=x, y=data["demand"], name="Demand", line={"color": COLORS["demand"],
                                                                "width": 2})
    fig.add_scatter(x=x, y=data["pv"], name="PV", fill="tozeroy",
                    line={"color": COLORS["pv"], "width": 1}, fillcolor="rgba(245,183,0,0.35)")
    if "battery_discharge" in data and (data["battery_discharge"].abs().sum()
                                        + data["battery_charge"].abs().sum()) > 0:
        fig.add_bar(x=x, y=data["battery_discharge"] - data["battery_charge"],
                    name="Battery (+ discharge)", marker_color=COLORS["battery"], opacity=0.7)
    fig.add_scatter(x=x, y=data["import"], name="Grid import",
                    line={"color": COLORS["import"], "width": 1.5, "dash": "dot"})
    fig.add_scatter(x=x, y=-data["export"], name="Grid export (−)",
                    line={"color": COLORS["export"], "width": 1.5, "dash": "dot"})
    fig.update_layout(**_layout(title, "kW", subtitle))
    fig.update_layout(barmode="relative")
    if typical_day:
        fig.update_xaxes(tickvals=list(range(0, 24, 3)),
                         ticktext=[f"{h:02d}:00" for h in range(0, 24, 3)], range=[-0.5, 23.5])
    else:                 # a typical year: show the day, not the reference year
        # one short label per day, centred on the day; the date is in the subtitle and hover
        fig.update_xaxes(tickformat="%a", dtick=86_400_000, ticklabelmode="period",
                         tickangle=0, hoverformat="%a %d %b %H:%M")
    return fig


def survival_chart(curves: dict[str, pd.Series], title: str) -> go.Figure:
    """P(critical load fully served for at least d hours) against d, one line per curve."""
    fig = go.Figure()
    palette = [COLORS["building"], COLORS["pooled"], COLORS["demand"], COLORS["pv"]]
    for (name, curve), color in zip(curves.items(), palette, strict=False):
        fig.add_scatter(x=curve.index, y=100 * curve.to_numpy(), name=name, mode="lines",
                        line={"color": color, "width": 2, "shape": "hv"})
    for h in (8, 24, 72):
        fig.add_vline(x=h, line={"color": "#cbd2d9", "width": 1, "dash": "dash"},
                      annotation={"text": f"{h} h", "font": {"size": 10, "color": "#7b8794"}},
                      annotation_position="top right")
    layout = _layout(title, "P(survive ≥ d) [%]")
    # up to where every curve has reached zero (plus a margin), never past the horizon
    horizon = max(int(c.index.max()) for c in curves.values())
    last = max((int(c.index[c.to_numpy() > 0.005].max()) if (c.to_numpy() > 0.005).any()
                else 0) for c in curves.values())
    layout["xaxis"] = {"title": {"text": "outage duration d [h]"}, "gridcolor": "#f0f2f5",
                       "range": [0, min(horizon, max(26, int(last * 1.25) + 2))]}
    layout["yaxis"]["range"] = [0, 101]
    fig.update_layout(**layout)
    return fig


def empty_chart(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 13, "color": "#7b8794"},
                       x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(height=200, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"visible": False}, yaxis={"visible": False},
                      plot_bgcolor="white", paper_bgcolor="white")
    return fig


SCENARIO_COLORS = ["#0f766e", "#f2994a", "#7b61ff", "#d64545"]


def transformer_bars(frames: dict[str, pd.DataFrame], column: str, title: str, ytitle: str,
                     factor: float = 1.0) -> go.Figure:
    """Grouped bars of one transformer column, one bar group per transformer and one colour
    per scenario."""
    fig = go.Figure()
    for (name, frame), color in zip(frames.items(), SCENARIO_COLORS, strict=False):
        fig.add_bar(x=list(frame.index), y=(frame[column] * factor).round(2), name=name,
                    marker_color=color)
    fig.update_layout(**_layout(title, ytitle))
    fig.update_layout(barmode="group", hovermode="x", height=280)
    return fig


def sweep_chart(sweep: pd.DataFrame, title: str = "As PV grows on the district's roofs",
                subtitle: str = "") -> go.Figure:
    """One chart of a penetration sweep (:func:`dashboard.sweep.penetration_sweep`): x = % of
    the rooftop PV potential used; self-sufficiency (PV yellow) and P(survive 24 h) (storage
    purple; dashed: buildings of a transformer as a microgrid) in % on the left axis; hosting
    headroom [kWp] (export blue, the reverse-flow colour) on the right, with its zero line."""
    x = 100 * sweep["share"].to_numpy(float)
    fig = go.Figure()
    fig.add_scatter(x=x, y=100 * sweep["self_sufficiency"], name="Self-sufficiency",
                    mode="lines+markers", line={"color": COLORS["pv"], "width": 2.5})
    fig.add_scatter(x=x, y=100 * sweep["p_survive_24h"], name="P(survive 24 h)",
                    mode="lines+markers", line={"color": COLORS["battery"], "width": 2.5})
    if "p_survive_24h_pooled" in sweep:
        fig.add_scatter(x=x, y=100 * sweep["p_survive_24h_pooled"],
                        name="P(survive 24 h), microgrids", mode="lines",
                        line={"color": COLORS["battery"], "width": 1.5, "dash": "dash"})
    fig.add_scatter(x=x, y=sweep["hosting_headroom_kwp"], name="Hosting headroom [kWp]",
                    mode="lines+markers", yaxis="y2",
                    line={"color": COLORS["export"], "width": 2, "dash": "dot"})
    layout = _layout(title, "%", subtitle)
    layout["xaxis"] = {"title": {"text": "% of rooftop PV potential used"},
                       "gridcolor": "#f0f2f5", "range": [0, 100.5]}
    layout["yaxis"]["range"] = [0, 101]
    layout["yaxis2"] = {"title": {"text": "headroom [kWp]"}, "overlaying": "y", "side": "right",
                        "showgrid": False, "zeroline": True, "zerolinecolor": "#9ab8e6",
                        "zerolinewidth": 1}
    layout["margin"]["r"] = 50
    layout["legend"]["y"] = -0.25
    layout["height"] = 320
    fig.update_layout(**layout)
    return fig
