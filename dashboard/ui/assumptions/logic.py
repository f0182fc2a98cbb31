"""The Assumptions tab without Dash: the rows it shows and the scenario an edit makes.

An edit sets one override (text as typed: one number, or numbers separated by ';'), clears it
(empty text or the row's reset) or clears them all. An impossible value raises DecentraError
(the caller keeps the previous scenario); a value far outside the usual range is accepted with
a warning shown in its row.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.domain import overrides
from dashboard.domain.district import District
from dashboard.domain.scenario import Scenario
from dashboard.ui import ids
from dashboard.ui.widgets import button

PROFILE_SHOWN_MAX = 24        # longer hourly series (from a file, on the CLI) are not typed


def rows(district: District, scenario: Scenario) -> list[dict[str, Any]]:
    """The panel's rows (see :func:`dashboard.domain.overrides.table_rows`)."""
    return overrides.table_rows(district.assumptions, scenario.assumptions)


def edited(scenario: Scenario, key: str | None, text: Any, reset_all: bool = False
           ) -> Scenario:
    """The scenario after one edit of the panel (unchanged if nothing changes)."""
    if reset_all:
        return scenario.with_assumptions(dict.fromkeys(scenario.assumption_overrides()))
    if key is None:
        return scenario
    value = None if text is None or not str(text).strip() else str(text)
    return scenario.with_assumptions({key: value})


def warnings_text(scenario: Scenario) -> str:
    found = overrides.warnings(scenario.assumptions)
    return "Accepted, but: " + "; ".join(found) if found else ""


def _input(row: dict[str, Any]) -> Any:
    long = row["override"].count(";") >= PROFILE_SHOWN_MAX
    text = f"{row['override'].count(';') + 1} hourly values" if long else row["override"]
    return html.Div(id={"type": ids.ASSUME_INPUT, "key": row["key"]}, children=text) \
        if long else _text_input(row["key"], text)


def _text_input(key: str, value: str) -> Any:
    from dash import dcc

    return dcc.Input(id={"type": ids.ASSUME_INPUT, "key": key}, type="text", value=value,
                     debounce=True, placeholder="district", className="assume-input",
                     name=key)


def row_views(table: list[dict[str, Any]]) -> list[Any]:
    """The rows as components, grouped, overridden rows marked."""
    out: list[Any] = []
    group = None
    for row in table:
        if row["group"] != group:
            group = row["group"]
            out.append(html.Div(group, className="assume-group"))
        cls = "assume-row" + (" overridden" if row["override"] else "")
        out.append(html.Div([
            html.Span([row["label"], html.Span(row["unit"], className="unit")],
                      className="assume-label", title=row["key"]),
            html.Span(row["district"], className="assume-district",
                      title=f"district value: {row['district']}"),
            _input(row),
            button({"type": ids.ASSUME_RESET, "key": row["key"]}, "↺", "ghost small",
                   title="back to the district's value") if row["override"] else html.Span(),
            html.Div(row["warning"], className="assume-warning") if row["warning"] else None,
        ], className=cls, **{"data-key": row["key"]}))
    return out


__all__ = ["edited", "row_views", "rows", "warnings_text"]
