"""Callbacks around saved scenarios: save and share, the workspace's list (open, copy,
rename, delete), scenario files, and the comparison. Every store call names the workspace of
the request (:func:`dashboard.ui.workspace.current_workspace`), never one the page sends."""

from __future__ import annotations

import time
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.io.staging import safe_name
from dashboard.ui import ids, state
from dashboard.ui.base import Deps, bind, message, out
from dashboard.ui.scenarios import logic
from dashboard.ui.workspace import current_workspace, workspace_url

SAVE = {"session": Output(ids.SESSION, "data", allow_duplicate=True),
        "message": Output(ids.MESSAGE, "children", allow_duplicate=True),
        "share": Output(ids.SHARE_URL, "value")}
SHARED = {"session": Output(ids.SESSION_BG, "data", allow_duplicate=True),
          "message": Output(ids.MESSAGE, "children", allow_duplicate=True),
          "share": Output(ids.SHARE_URL, "value", allow_duplicate=True)}
LIST = {"rows": Output(ids.SAVED_LIST, "children"), "compare": Output(ids.COMPARE_PICK, "options"),
        "present": Output(ids.PRESENT_SWITCH, "options"),
        "present_value": Output(ids.PRESENT_SWITCH, "value"),
        "workspace": Output(ids.WORKSPACE_URL, "value")}
ACTION = {"session": Output(ids.SESSION_BG, "data", allow_duplicate=True),
          "changed": Output(ids.SAVED_ACTION, "data"),
          "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}
ASK = {"shown": Output(ids.CONFIRM_DELETE, "displayed"),
       "text": Output(ids.CONFIRM_DELETE, "message"), "pending": Output(ids.PENDING_DELETE, "data")}
DELETE = {"session": Output(ids.SESSION_BG, "data", allow_duplicate=True),
          "changed": Output(ids.SAVED_ACTION, "data", allow_duplicate=True),
          "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}
UPLOAD = {"session": Output(ids.SESSION_BG, "data", allow_duplicate=True),
          "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}
DOWNLOAD = {"file": Output(ids.DOWNLOAD, "data")}
COMPARE = {"body": Output(ids.COMPARE_BODY, "children")}


def save(deps: Deps, save: Any, save_new: Any, session: Any, trigger: Any = None) -> dict:
    """Save into this workspace (over the tab's own saved entry, or as new)."""
    try:
        ws = current_workspace()
        sess, district, scenario = deps.current(session)
        kpis = dc.evaluate(district, scenario).summary
        target = None if trigger == ids.SAVE_NEW else sess["saved_id"]
        try:
            sid = deps.store.save(ws, district.content_hash, scenario, kpis, scenario_id=target)
        except DecentraError:           # deleted meanwhile, or not this workspace's
            sid = deps.store.save(ws, district.content_hash, scenario, kpis)
        token = deps.store.load(ws, sid).share_token
    except DecentraError as err:
        return out(SAVE, message=message(str(err)))
    return out(SAVE, session=state.with_saved_id(sess, sid),
               message=message(f"Saved “{scenario.name}”", "ok"),
               share=logic.share_url(token))


def open_shared(deps: Deps, search: Any, session: Any) -> dict:
    """``/?share=<token>`` opens a read-only copy: not tied to the sender's entry, so the
    visitor's Save keeps their own copy and never changes the shared scenario."""
    from urllib.parse import parse_qs

    token = parse_qs(str(search or "").lstrip("?")[:400]).get("share", [None])[0]
    if not token:
        return out(SHARED)
    try:
        sess = state.parse_session(session)
        saved = deps.store.load_shared(token)
        if saved.district_hash != sess["district"]:
            raise DecentraError("the shared scenario was made for another district")
    except DecentraError as err:
        return out(SHARED, message=message(str(err)))
    return out(SHARED, session=state.loaded(sess, saved.scenario, None),
               message=message(f"Opened a copy of the shared scenario “{saved.name}” (Save "
                               "keeps it in your workspace)", "ok"),
               share=logic.share_url(token))


def refresh(deps: Deps, session: Any, action: Any, view: Any, tab: Any) -> dict:
    """The workspace's scenarios of this district, and the pickers fed by them (only when
    something on screen shows them)."""
    if tab != "saved" and view == "plan":
        return out(LIST)
    try:
        ws = current_workspace()
        sess, district, _ = deps.current(session)
        items = deps.store.list(ws, district.lineage)
    except DecentraError as err:
        return out(LIST, rows=[html.P(str(err), className="hint")], compare=[], present=[])
    options = [{"label": "Current scenario (unsaved)", "value": logic.CURRENT},
               *[{"label": s.name, "value": s.id} for s in items]]
    mine = sess["saved_id"] if any(s.id == sess["saved_id"] for s in items) else None
    return out(LIST, rows=logic.saved_rows(deps.store, ws, district.lineage, mine),
               compare=options, present=options, present_value=mine or logic.CURRENT,
               workspace=workspace_url(ws))


def saved_action(deps: Deps, load: Any, copy: Any, names: Any, session: Any,
                 trigger: Any = None, triggered_value: Any = None) -> dict:
    """Open, copy or rename one of the workspace's scenarios."""
    if not isinstance(trigger, dict):
        return out(ACTION)
    sid, kind = trigger["id"], trigger["type"]
    try:
        ws = current_workspace()
        sess = state.parse_session(session)
        if kind == "saved-load":
            saved = deps.store.load(ws, sid)
            if saved.district_hash != sess["district"]:
                raise DecentraError("that scenario was made for another district")
            return out(ACTION, session=state.loaded(sess, saved.scenario, sid),
                       changed=time.time(), message=message(f"Opened “{saved.name}”", "ok"))
        if kind == "saved-dup":
            copied = deps.store.load(ws, deps.store.duplicate(ws, sid))
            return out(ACTION, changed=time.time(),
                       message=message(f"Copied as “{copied.name}”", "ok"))
        new_name = str(triggered_value or "").strip()
        if not new_name or deps.store.load(ws, sid).name == new_name:
            return out(ACTION)
        deps.store.rename(ws, sid, new_name)
        return out(ACTION, changed=time.time(), message=message(f"Renamed to “{new_name}”",
                                                                "ok"))
    except DecentraError as err:
        return out(ACTION, changed=time.time(), message=message(str(err)))


def ask_delete(deps: Deps, clicks: Any, trigger: Any = None) -> dict:
    """Ask first: a saved scenario may be someone's council option."""
    if not isinstance(trigger, dict):
        return out(ASK)
    try:
        name = deps.store.load(current_workspace(), trigger["id"]).name
    except DecentraError:
        return out(ASK)
    return out(ASK, shown=True, pending=trigger["id"],
               text=f"Delete “{name}”? Share links to it will stop working. This cannot be "
                    "undone.")


def delete(deps: Deps, confirmed: Any, pending: Any, session: Any) -> dict:
    if not pending:
        return out(DELETE)
    try:
        ws = current_workspace()
        sess = state.parse_session(session)
        name = deps.store.load(ws, pending).name
        deps.store.delete(ws, pending)
    except DecentraError as err:
        return out(DELETE, changed=time.time(), message=message(str(err)))
    return out(DELETE, changed=time.time(), message=message(f"Deleted “{name}”", "ok"),
               session=state.with_saved_id(sess, None) if sess["saved_id"] == pending
               else no_update)


def upload(deps: Deps, contents: Any, filename: Any, session: Any) -> dict:
    """A scenario file opened into the tab (undoable like an edit)."""
    if not contents:
        return out(UPLOAD)
    name = safe_name(filename)
    try:
        sess, district, _ = deps.current(session)
        scenario = logic.parse_upload(contents, name)
        dc.validate(district, scenario)
    except DecentraError as err:
        shown = err if err.source is not None else DecentraError(err.message, source=name,
                                                                 rows=err.rows)
        return out(UPLOAD, message=message(str(shown)))
    return out(UPLOAD, session=state.loaded(sess, scenario, None),
               message=message(f"Loaded “{scenario.name}” from {name}", "ok"))


def download_json(deps: Deps, clicks: Any, session: Any) -> dict:
    try:
        _, _, scenario = deps.current(session)
    except DecentraError:
        return out(DOWNLOAD)
    return out(DOWNLOAD, file=dcc.send_string(scenario.to_json(),
                                              f"{logic.file_stem(scenario.name)}.json"))


def compare(deps: Deps, picked: Any, view: Any, session: Any) -> dict:
    """2–4 scenarios side by side: the current one and the workspace's saved ones."""
    if view != "compare":
        return out(COMPARE)
    picked = list(picked or [])
    if len(picked) < 2:
        return out(COMPARE, body=html.P("Pick 2 to 4 scenarios: the current one and saved ones.",
                                        className="hint big"))
    extra = None
    if len(picked) > 4:
        extra = html.P(f"At most 4 side by side: showing the first 4 of {len(picked)}; remove "
                       "one to bring in another.", className="hint warn")
        picked = picked[:4]
    try:
        ws = current_workspace()
        _, district, scenario = deps.current(session)
        chosen = {}
        for key in picked:
            s = scenario if key == logic.CURRENT else deps.store.load(ws, key).scenario
            name = s.name if s.name not in chosen else f"{s.name} ({key})"
            chosen[name] = dc.evaluate(district, s)
    except DecentraError as err:
        return out(COMPARE, body=html.P(str(err), className="hint big"))
    body = logic.compare_body(deps, district, chosen, dc.baseline(district))
    return out(COMPARE, body=[extra, *body] if extra is not None else body)


def register(app: Dash, deps: Deps) -> None:
    session = State(ids.SESSION, "data")
    app.callback(output=SAVE, inputs={"save": Input(ids.SAVE, "n_clicks"),
                                      "save_new": Input(ids.SAVE_NEW, "n_clicks")},
                 state={"session": session}, prevent_initial_call=True)(bind(save, deps))
    app.callback(output=SHARED, inputs={"search": Input(ids.URL, "search")},
                 state={"session": session}, prevent_initial_call="initial_duplicate"
                 )(bind(open_shared, deps))
    app.callback(output=LIST, inputs={"session": Input(ids.SESSION, "data"),
                                      "action": Input(ids.SAVED_ACTION, "data"),
                                      "view": Input(ids.VIEW, "data"),
                                      "tab": Input(ids.TABS, "value")})(bind(refresh, deps))
    app.callback(output=ACTION,
                 inputs={"load": Input({"type": "saved-load", "id": ALL}, "n_clicks"),
                         "copy": Input({"type": "saved-dup", "id": ALL}, "n_clicks"),
                         "names": Input({"type": "saved-name", "id": ALL}, "value")},
                 state={"session": session}, prevent_initial_call=True
                 )(bind(saved_action, deps))
    app.callback(output=ASK, inputs={"clicks": Input({"type": "saved-del", "id": ALL},
                                                     "n_clicks")},
                 prevent_initial_call=True)(bind(ask_delete, deps))
    app.callback(output=DELETE, inputs={"confirmed": Input(ids.CONFIRM_DELETE,
                                                           "submit_n_clicks")},
                 state={"pending": State(ids.PENDING_DELETE, "data"), "session": session},
                 prevent_initial_call=True)(bind(delete, deps))
    app.callback(output=UPLOAD, inputs={"contents": Input(ids.UPLOAD, "contents")},
                 state={"filename": State(ids.UPLOAD, "filename"), "session": session},
                 prevent_initial_call=True)(bind(upload, deps))
    app.callback(output=DOWNLOAD, inputs={"clicks": Input(ids.DOWNLOAD_JSON, "n_clicks")},
                 state={"session": session}, prevent_initial_call=True
                 )(bind(download_json, deps))
    app.callback(output=COMPARE, inputs={"picked": Input(ids.COMPARE_PICK, "value"),
                                         "view": Input(ids.VIEW, "data")},
                 state={"session": session})(bind(compare, deps))


__all__ = ["ask_delete", "compare", "delete", "download_json", "open_shared", "refresh",
           "register", "save", "saved_action", "upload"]
