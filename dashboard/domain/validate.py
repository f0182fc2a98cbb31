"""The one validator of numbers a user gives (forms, scenario JSON, CLI arguments): a value
within bounds, or one DecentraError that names the field and the bound it broke."""

from __future__ import annotations

import math

from dashboard.domain.errors import DecentraError


def number(value: object, what: str, lo: float, hi: float, *, lo_open: bool = False,
           hi_open: bool = False) -> float:
    """``value`` as a float within [lo, hi] (``lo_open`` / ``hi_open``: excluding the bound).

    Text is read with a decimal comma or point; booleans, empty text, non-numbers and
    non-finite numbers are refused with a message naming ``what``."""
    if value is None or isinstance(value, bool) or (isinstance(value, str)
                                                    and not value.strip()):
        raise DecentraError(f"{what}: please enter a number")
    try:
        x = float(value.strip().replace(",", ".")) if isinstance(value, str) else float(
            value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise DecentraError(f"{what} must be a number, got '{str(value)[:40]}'") from None
    if not math.isfinite(x):
        raise DecentraError(f"{what} must be a finite number, got {x}")
    low_bad = x <= lo if lo_open else x < lo
    high_bad = x >= hi if hi_open else x > hi
    if low_bad or high_bad:
        low = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
        high = f"less than {hi:g}" if hi_open else f"at most {hi:g}"
        raise DecentraError(f"{what} must be {low} and {high}; {x:g} is outside")
    return x


__all__ = ["number"]
