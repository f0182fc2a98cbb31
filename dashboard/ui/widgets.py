"""Small layout pieces every feature uses: number fields and buttons."""

from __future__ import annotations

from dash import dcc, html


def number_field(id_: str, value: float | None, unit: str = "", label: str = "") -> html.Label:
    """A number field. It has no HTML min / max / step: the browser would turn a value outside
    them into "no number" before the server sees it, and the message would then name the wrong
    problem; the server checks every bound and says which one was broken."""
    return html.Label([
        html.Span(label, className="field-label"),
        html.Span([dcc.Input(id=id_, type="number", value=value, step="any",
                             debounce=False, className="num"),
                   html.Span(unit, className="unit")], className="field-input"),
    ], className="field")


def button(id_: str | dict, text: str, kind: str = "primary", title: str = "") -> html.Button:
    return html.Button(text, id=id_, n_clicks=0, className=f"btn {kind}",
                       title=title or None)


__all__ = ["button", "number_field"]
