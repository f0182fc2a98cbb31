"""Locks (and the memos built on them) that survive ``fork``.

Dash's background jobs run in processes forked from the server. A ``threading.Lock`` held by
another thread of the server at that moment (a warm-up thread filling a cache, a request
building a model) is copied into the child locked, with no thread left to release it: the
job would wait forever. These locks are replaced by fresh ones in every forked child.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from types import TracebackType
from typing import Generic, TypeVar

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


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ForkSafeLRU(Generic[K, V]):
    """A small in-process least-recently-used memo, safe across threads and ``fork``
    (its lock is a :class:`ForkSafeLock`): at most ``size`` entries, the oldest dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = ForkSafeLock()

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
