"""The visitor's workspace: an unguessable id in an HttpOnly cookie, created on the first
visit. Callbacks read it from the request (never from anything the page sends in its stores),
so no client-side value can reach another workspace's saved scenarios."""

from __future__ import annotations

from flask import Flask, g, redirect, request
from werkzeug.wrappers import Response

from dashboard.domain.errors import DecentraError
from dashboard.store import new_workspace_id, valid_workspace

COOKIE = "decentra_workspace"
MAX_AGE_S = 10 * 365 * 24 * 3600


def current_workspace() -> str:
    """The workspace of the request being answered. Raises DecentraError outside one."""
    try:
        ws = g.get("workspace")
    except RuntimeError:
        ws = None
    if not valid_workspace(ws):
        raise DecentraError("no workspace: reload the page")
    return str(ws)


def workspace_url(workspace: str) -> str:
    """The link that opens ``workspace`` in another browser (a secret: it grants access)."""
    try:
        base = request.host_url
    except RuntimeError:
        base = "/"
    return f"{base}w/{workspace}"


def install(server: Flask) -> None:
    """Give every request a workspace (a new one, and its cookie, on the first visit) and
    serve ``/w/<id>``, which switches this browser to that workspace."""

    @server.before_request
    def _workspace() -> None:
        ws = request.cookies.get(COOKIE)
        g.workspace_new = not valid_workspace(ws)
        g.workspace = ws if valid_workspace(ws) else new_workspace_id()

    @server.after_request
    def _cookie(resp: Response) -> Response:
        if g.get("workspace_new"):
            resp.set_cookie(COOKIE, g.workspace, max_age=MAX_AGE_S, httponly=True,
                            samesite="Lax", secure=request.is_secure, path="/")
        return resp

    @server.route("/w/<workspace>")
    def _switch(workspace: str) -> Response:
        if not valid_workspace(workspace):
            return Response("This workspace link is not valid (copy the whole link).",
                            status=404, mimetype="text/plain")
        resp = redirect("/")
        resp.set_cookie(COOKIE, workspace, max_age=MAX_AGE_S, httponly=True, samesite="Lax",
                        secure=request.is_secure, path="/")
        g.workspace_new = False
        return resp


__all__ = ["COOKIE", "current_workspace", "install", "workspace_url"]
