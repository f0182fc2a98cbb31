"""Locks that survive ``fork``.

Dash's background jobs run in processes forked from the server. A ``threading.Lock`` held by
another thread of the server at that moment (a warm-up thread filling a cache, a request
building a model) is copied into the child locked, with no thread left to release it: the
job would wait forever. These locks are replaced by fresh ones in every forked child.
"""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType

_locks: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


class ForkSafeLock:
    """A ``threading.Lock`` (context manager, acquire / release) that a forked child gets
    unlocked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _locks.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._lock.release()


def _after_fork_in_child() -> None:
    for lock in list(_locks):
        lock._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
