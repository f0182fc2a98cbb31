"""JSON from untrusted text: a size cap, a nesting cap (deep nesting was a RecursionError)
and a cap on the characters of one number (Python refuses ints of over 4,300 digits with a
ValueError; a number of hundreds of digits is not data) — each a DecentraError naming the
file. Pure: no I/O, so the domain's own readers (scenario JSON) use it too."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dashboard.domain.errors import DecentraError

MAX_JSON_DEPTH = 64
MAX_NUMBER_CHARS = 40            # digits (and sign, point, exponent) of one number


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(token: str) -> Any:
        if len(token) > MAX_NUMBER_CHARS:
            raise ValueError(f"a number of {len(token):,} characters")
        return kind(token)
    return parse


def loads_json(data: str | bytes, *, source: str, max_bytes: int | None = None,
               max_depth: int | None = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from an untrusted file or upload. Raises DecentraError naming ``source``
    for anything that is not plain, reasonably shaped JSON (``max_depth`` None: nesting is
    only bounded by the parser's recursion limit, for large GeoJSON)."""
    if isinstance(data, bytes | bytearray):
        if max_bytes is not None and len(data) > max_bytes:
            raise DecentraError(f"the JSON is larger than {max_bytes / 2**20:,.0f} MB",
                                source=source)
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise DecentraError(f"the text is not UTF-8 (byte {err.start})",
                                source=source) from None
    else:
        text = data
        if max_bytes is not None and len(text) > max_bytes:
            raise DecentraError(f"the JSON is larger than {max_bytes / 2**20:,.0f} MB",
                                source=source)
    try:
        value = json.loads(text, parse_int=_number(int), parse_float=_number(float))
    except json.JSONDecodeError as err:
        raise DecentraError(f"not valid JSON at line {err.lineno}, column {err.colno} "
                            f"({err.msg}); is the file truncated?", source=source) from None
    except ValueError as err:               # from the number guards
        raise DecentraError(f"the JSON holds {err}: not a plausible value",
                            source=source) from None
    except RecursionError:
        raise DecentraError("the JSON is nested too deeply", source=source) from None
    if max_depth is not None and not _depth(value, max_depth):
        raise DecentraError(f"the JSON is nested more than {max_depth} levels deep",
                            source=source)
    return value


__all__ = ["MAX_JSON_DEPTH", "MAX_NUMBER_CHARS", "loads_json"]
