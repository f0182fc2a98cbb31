"""Where the shipped data lives (the repository's ``data/`` folder)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("DECENTRA_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))
DEFAULT_DISTRICT = DATA_DIR / "bubenec_district.gpkg"
ASSUMPTIONS_CSV = DATA_DIR / "assumptions.csv"
