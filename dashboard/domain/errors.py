"""The one error type users see.

Every failure caused by user input (a bad file, a number out of bounds, an unknown id) is raised
as :class:`DecentraError` with a message written for the user. The UI shows ``str(error)``; the CLI
prints it and exits non-zero. Anything else escaping is a bug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# an absolute path (at least two components) not inside a word, a number or a URL
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~])/(?:[^\s'\"():,;/]*/)+([^\s'\"():,;/]*)")


def without_paths(text: str) -> str:
    """``text`` with every absolute path shortened to its last part: messages reach web
    users, and server folders (staging, unzip, data) are nobody's business."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", text)


class DecentraError(Exception):
    """A user-facing error: ``str(err)`` is the complete message.

    Parameters
    ----------
    message:
        What went wrong and, where possible, how to fix it.
    source:
        The file or field the problem is in (shown before the message; an absolute path is
        shown by its last part only, as is any path in the message).
    rows:
        The first offending rows or ids, if any.
    """

    def __init__(self, message: str, *, source: str | None = None,
                 rows: Iterable[object] | None = None) -> None:
        self.message = message
        self.source = source
        self.rows = tuple(rows) if rows is not None else ()
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.source}: {self.message}" if self.source else self.message
        text = " ".join(without_paths(text).split())      # one line, whatever was quoted
        if self.rows:
            if not text.rstrip().endswith((".", "!", "?", ":", ")")):
                text = text.rstrip() + "."
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" (and {len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
            text += f" First offending: {shown}{more}."
        return text
