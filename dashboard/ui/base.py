"""What every feature of the UI shares: the dependencies callbacks get passed in
(:class:`Deps`), messages, and the small conventions of callbacks.

**Callbacks** are module-level functions in each feature's ``callbacks.py`` with named inputs
and outputs (Dash's flexible signatures: ``inputs=dict(...)``, ``output=dict(...)``). Their
first argument is :class:`Deps`; a callback that needs to know what fired it takes
``trigger`` (the triggered id) and gets it passed. :func:`bind` registers such a function, so
tests call the very same function with a ``Deps`` and plain values — no browser, no Dash
context. Every callback returns a dict of its named outputs (:func:`out` fills the ones it
leaves alone with ``no_update``); the work is done by the feature's ``logic.py`` (pure) and the
services.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dash import ctx, html, no_update

from dashboard.domain.district import District
from dashboard.domain.scenario import Scenario
from dashboard.figures.maps import MapBase
from dashboard.store import ScenarioStore
from dashboard.ui import state
from dashboard.ui.layers import LayerService


@dataclass
class Deps:
    """What callbacks need besides their inputs (fixed after start-up)."""

    registry: state.DistrictRegistry
    default_district: str
    tiles_url: str
    layers: LayerService
    store: ScenarioStore
    bases: dict[str, MapBase] = field(default_factory=dict)

    def district(self, key: str) -> District:
        return self.registry.get(key)

    def current(self, session_data: Any) -> tuple[state.Session, District, Scenario]:
        """The page's session, its district and its current scenario. Raises DecentraError
        (damaged page state, a district or scenario no longer on the server)."""
        session = state.parse_session(session_data)
        return (session, self.district(session["district"]),
                state.get_scenario(session["scenario"]))

    def base(self, district: District) -> MapBase:
        hit = self.bases.get(district.content_hash)
        if hit is None:
            hit = MapBase.from_district(district.buildings, district.transformers)
            self.bases[district.content_hash] = hit
        return hit


def message(text: str, kind: str = "error") -> html.Div:
    """A toast; ``kind``: error, ok or info. Stamped so that the same text shows again."""
    stamp: dict[str, Any] = {"data-ts": f"{time.time():.3f}"}
    return html.Div(text, className=f"toast-body {kind}", **stamp)


def out(spec: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """A callback's named outputs: ``values`` where given, ``no_update`` for the rest."""
    unknown = set(values) - set(spec)
    if unknown:
        raise KeyError(f"not outputs of this callback: {sorted(unknown)}")
    return {k: values.get(k, no_update) for k in spec}


def bind(fn: Callable[..., Any], deps: Deps) -> Callable[..., Any]:
    """``fn(deps, ...)`` as a Dash callback: ``deps`` passed in, ``trigger`` (the id that
    fired it; a dict for pattern-matching ids) and ``triggered_value`` (its new value) when
    ``fn`` takes them."""
    params = inspect.signature(fn).parameters

    @functools.wraps(fn)
    def callback(*args: Any, **kwargs: Any) -> Any:
        if "trigger" in params:
            kwargs["trigger"] = triggered()
        if "triggered_value" in params:
            kwargs["triggered_value"] = ctx.triggered[0].get("value") if ctx.triggered \
                else None
        return fn(deps, *args, **kwargs)
    return callback


def triggered() -> Any:
    """The id that fired the running callback; None on a page's first call, and for a
    pattern-matching input whose value did not really change (a list re-rendered)."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and not any(t.get("value") for t in ctx.triggered):
        return None
    return trigger


__all__ = ["Deps", "bind", "message", "out", "triggered"]
