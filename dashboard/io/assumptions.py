"""Read and write the assumptions table (CSV: key, value, unit, source, note)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.errors import DecentraError
from dashboard.paths import ASSUMPTIONS_CSV

_FIELDS = ("key", "value", "unit", "source", "note")


def read_assumptions(path: str | Path | None = None) -> Assumptions:
    """Read an assumptions CSV; the shipped table when ``path`` is None."""
    path = Path(path) if path is not None else ASSUMPTIONS_CSV
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DecentraError(f"cannot read the assumptions table ({err})",
                            source=str(path)) from None
    return parse_assumptions(text, source=str(path))


def parse_assumptions(text: str, source: str = "assumptions") -> Assumptions:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"key", "value"} <= set(reader.fieldnames):
        raise DecentraError("the assumptions table needs the columns key and value",
                            source=source)
    return Assumptions.from_records(list(reader))


def assumptions_to_csv(assumptions: Assumptions) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(assumptions.records())
    return out.getvalue()
