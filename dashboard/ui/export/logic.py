"""What the export dialog does with its fields, as plain functions (no callbacks): the saved
scenarios offered as alternatives, the logo upload, and the report's options."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import dashboard as dc
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import Result
from dashboard.export.council import MAX_ALTERNATIVES, ReportOptions
from dashboard.export.logo import MAX_LOGO_BYTES, sanitize_logo
from dashboard.store import ScenarioStore
from dashboard.ui import state


def saved_choices(store: ScenarioStore, workspace: str, lineage: Any) -> list[dict]:
    """The checklist of alternatives: the workspace's saved scenarios of this district."""
    return [{"label": s.name, "value": s.id} for s in store.list(workspace, lineage)]


def alternative_keys(store: ScenarioStore, workspace: str, chosen: Sequence[str] | None
                     ) -> list[str]:
    """Server keys of the chosen saved scenarios (kept for the background job, which cannot
    read the workspace); at most MAX_ALTERNATIVES."""
    chosen = [c for c in (chosen or []) if isinstance(c, str)]
    if len(chosen) > MAX_ALTERNATIVES:
        raise DecentraError(f"compare at most {MAX_ALTERNATIVES} alternatives at once")
    return [state.put_scenario(store.load(workspace, sid).scenario) for sid in chosen]


def read_logo_upload(contents: Any, filename: Any) -> str:
    """An uploaded logo (a dcc.Upload data URL) checked and re-encoded: base64 of a clean
    PNG. Raises DecentraError with one message on anything else."""
    name = str(filename or "logo")[:120]
    if not isinstance(contents, str) or "," not in contents:
        raise DecentraError("the logo cannot be used: nothing was uploaded", source=name)
    payload = contents.split(",", 1)[1]
    if len(payload) > 4 * (MAX_LOGO_BYTES // 3 + 2):
        raise DecentraError("the logo cannot be used: the file is larger than 2 MB; give a "
                            "PNG or JPEG image (at most 2 MB and 25 megapixels)", source=name)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DecentraError("the logo cannot be used: the upload is damaged; give a PNG or "
                            "JPEG image (at most 2 MB and 25 megapixels)", source=name) from None
    return base64.b64encode(sanitize_logo(raw, name)).decode("ascii")


def report_options(question: Any, consultant: Any, logo_b64: Any) -> ReportOptions:
    """The report's options from the dialog. The stored logo came back from the page, so it
    is decoded and re-encoded once more here."""
    logo = None
    if isinstance(logo_b64, str) and logo_b64:
        logo = sanitize_logo(read_logo_bytes(logo_b64), "logo")
    return ReportOptions(question=str(question or ""), consultant=str(consultant or ""),
                         logo_png=logo)


def read_logo_bytes(b64: str) -> bytes:
    if len(b64) > 4 * (MAX_LOGO_BYTES // 3 + 2):
        raise DecentraError("the logo cannot be used: the file is larger than 2 MB")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise DecentraError("the logo cannot be used: the upload is damaged") from None


def alternatives(district: District, keys: Any) -> list[Result]:
    """The chosen alternatives' results (scenarios kept under ``keys``)."""
    keys = keys if isinstance(keys, list) else []
    return [dc.evaluate(district, state.get_scenario(k)) for k in keys[:MAX_ALTERNATIVES]]


def report_extras(district: District, name: str, question: Any, consultant: Any, alts: Any,
                  logo: Any) -> dict[str, Any]:
    """The report's own arguments of :func:`dashboard.export.registry.export_bytes` (none for
    the other formats)."""
    if name != "report":
        return {}
    return {"alternatives": alternatives(district, alts),
            "options": report_options(question, consultant, logo)}


__all__ = ["alternative_keys", "alternatives", "read_logo_bytes", "read_logo_upload",
           "report_extras", "report_options", "saved_choices"]
