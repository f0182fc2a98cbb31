"""Files uploaded through the browser, kept on disk until an import reads them.

A Dash upload arrives as a ``data:<mime>;base64,<data>`` URL. :func:`stage_upload` checks its
size before decoding, writes it under a fresh random folder with a harmless file name, and returns
a token; :func:`staged_file` turns a token back into the path. Tokens are hex only, so a token
sent back by a browser can never name a path outside the staging folder.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dashboard.domain.errors import DecentraError
from dashboard.io.formats import Limits

TOKEN = re.compile(r"^[0-9a-f]{32}$")
STALE_AFTER_S = 24 * 3600.0


@dataclass(frozen=True)
class StagedFile:
    token: str
    name: str          # the sanitized file name (what the importer and messages show)
    size_bytes: int

    def to_dict(self) -> dict[str, object]:
        return {"token": self.token, "name": self.name, "size_bytes": self.size_bytes}


def safe_name(filename: str | None) -> str:
    """The last path component of ``filename`` with anything but letters, digits, ``._- ``
    replaced (browsers send bare names; a crafted request might not)."""
    base = re.split(r"[\\/]", filename or "")[-1].strip()
    clean = re.sub(r"[^\w.\- ]", "_", base).lstrip(".")[:120]
    return clean or "upload"


def stage_upload(contents: str | None, filename: str | None, root: Path,
                 limits: Limits | None = None) -> StagedFile:
    """Decode a Dash upload and write it to ``root/<token>/<name>``. Raises DecentraError for
    an empty, oversized or undecodable upload (nothing is written then)."""
    limits = limits or Limits()
    name = safe_name(filename)
    if not contents:
        raise DecentraError("the upload is empty", source=name)
    _, sep, payload = contents.partition(",")
    if not sep:
        raise DecentraError("the upload is not readable (no data)", source=name)
    approx = len(payload) * 3 // 4
    if approx > limits.max_file_bytes + 3:
        raise DecentraError(f"the file is {approx / 2**20:,.0f} MB; the limit is "
                            f"{limits.max_file_bytes / 2**20:,.0f} MB (DECENTRA_MAX_UPLOAD_MB)",
                            source=name)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DecentraError("the upload is not readable (damaged in transfer)",
                            source=name) from None
    if not data:
        raise DecentraError("the file is empty", source=name)
    token = secrets.token_hex(16)
    folder = root / token
    folder.mkdir(parents=True, exist_ok=False)
    (folder / name).write_bytes(data)
    sweep(root)
    return StagedFile(token, name, len(data))


def staged_file(root: Path, token: object) -> Path:
    """The staged file of ``token``; DecentraError when it is malformed or gone."""
    if not isinstance(token, str) or not TOKEN.match(token):
        raise DecentraError("the uploaded file reference is damaged; upload the file again")
    folder = root / token
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise DecentraError("the uploaded file is no longer on the server; upload it again")
    return files[0]


def sweep(root: Path, now: float | None = None) -> None:
    """Remove staged uploads older than a day."""
    now = time.time() if now is None else now
    for folder in root.iterdir():
        try:
            if folder.is_dir() and TOKEN.match(folder.name) and \
                    now - folder.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
