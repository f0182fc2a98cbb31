"""The one cache design of Decentra: what is cached where, keyed by what, shared how.

Three tiers, all in this module:

1. **In-process memo** (:class:`Memo`): a bounded least-recently-used map per kind of value
   (district array models, network models, results, engine states for incremental edits,
   island power flows, served map layers). Python objects, never serialized; lost with the
   process. Thread-safe and fork-safe (:class:`~dashboard.domain.forksafe.ForkSafeLock`).
2. **Shared store** (:class:`SharedCache` over a :class:`Store`): values one process computed
   and another reads (a background worker's power-flow study, a scenario a tab pushed, a
   result another gunicorn worker computed, the payload behind a map layer URL).
   ``scripts/run`` and the CLI: :class:`DiskStore`, a size-bounded diskcache (least recently
   used evicted first) in the private cache folder. ``scripts/serve``: :class:`RedisStore`
   (Redis's own ``maxmemory`` LRU bounds it). Nothing is shared until the app calls
   :func:`configure`; the CLI and scripts then use the memo only (:class:`NullStore`).
3. **Job results** of Dash background callbacks: a separate diskcache folder (``jobs``) or the
   Celery result backend, owned by :mod:`dashboard.ui.jobs`; entries are deleted when read.

Keys: ``<namespace>:<CODE_VERSION>:<content key>``. ``CODE_VERSION`` hashes this package's
source and the versions of the libraries that shape values, so an entry written by other code
(an older install, a process started before an upgrade) is simply never looked up again.
Content keys are content hashes (district, scenario, island injections), never ``repr`` of a
DataFrame.

Values in the shared store are signed envelopes: ``MAGIC | HMAC-SHA256(secret, key | payload)
| payload`` with a pickled payload. The secret lives in the private cache folder (created 0700,
owner checked, the key file 0600) or comes from ``DECENTRA_SECRET_KEY``. An entry whose
signature, magic, key binding or type does not check out, a truncated file, or one that fails
to unpickle is a **miss** (and is deleted), never an error: nothing a user or another local
account could write is ever unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import secrets
import stat
import sys
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from dashboard.domain.errors import DecentraError
from dashboard.domain.forksafe import ForkSafeLock

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

MAGIC = b"DCv1"
_MAC_BYTES = 32
DEFAULT_SIZE_LIMIT_MB = 1024           # shared values on disk (DECENTRA_CACHE_MAX_MB)
DEFAULT_TTL_S = 7 * 24 * 3600


# ---- the code version every key carries ------------------------------------------------------
def _code_version() -> str:
    """Hash of this package's Python source, the data files that shape values, and the
    versions of Python and of the libraries whose objects end up in cached values."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    h.update(sys.version.encode())
    for name in ("numpy", "pandas", "scipy", "pvlib", "pandapower", "numba", "demandlib",
                 "shapely", "geopandas", "dash", "plotly"):
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as dist_version

                version = dist_version(name)
            except Exception:
                version = "?"
        h.update(f"{name}={version}".encode())
    return h.hexdigest()[:16]


CODE_VERSION = _code_version()


def versioned_key(namespace: str, key: str) -> str:
    """The full key of a value: namespace, code version, content key."""
    if ":" in namespace:
        raise ValueError("a namespace has no ':'")
    return f"{namespace}:{CODE_VERSION}:{key}"


# ---- the private cache folder ----------------------------------------------------------------
def cache_root() -> Path:
    """The private cache folder: ``DECENTRA_CACHE_DIR``, else ``$XDG_CACHE_HOME/decentra`` or
    ``~/.cache/decentra``. Per user, never a predictable name in a shared temp folder."""
    env = os.environ.get("DECENTRA_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "decentra"


def private_dir(path: Path) -> Path:
    """``path`` as a folder only this user can use: created 0700 if missing; an existing one
    must be a real folder (no symlink) owned by this user that no one else can write to
    (group/other read bits are removed). Raises DecentraError otherwise."""
    path = Path(path)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError as err:
        raise DecentraError(f"cannot create the cache folder ({err.strerror})",
                            source=str(path)) from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise DecentraError("the cache folder is not a plain folder (a symlink or a file); "
                            "remove it or set DECENTRA_CACHE_DIR", source=str(path))
    if st.st_uid != os.geteuid():
        raise DecentraError("the cache folder belongs to another user; remove it or set "
                            "DECENTRA_CACHE_DIR to a folder of your own", source=str(path))
    if st.st_mode & 0o022:
        raise DecentraError("the cache folder can be written by other users, who could plant "
                            "values in it; remove it (it is only a cache) or set "
                            "DECENTRA_CACHE_DIR", source=str(path))
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def cache_dir(*parts: str) -> Path:
    """A private folder under the cache root (created 0700, checked)."""
    root = private_dir(cache_root())
    return private_dir(root.joinpath(*parts)) if parts else root


def secret_key() -> bytes:
    """The key that signs shared values: ``DECENTRA_SECRET_KEY``, else ``secret.key`` in the
    private cache folder (32 random bytes, created 0600 on first use)."""
    env = os.environ.get("DECENTRA_SECRET_KEY")
    if env:
        return hashlib.sha256(env.encode()).digest()
    path = cache_dir() / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise DecentraError("the cache's key file is not private to this user; remove it",
                            source=str(path))
    data = path.read_bytes()
    if len(data) < 32:                       # torn write of a concurrent first start
        raise DecentraError("the cache's key file is damaged; remove it", source=str(path))
    return data[:32]


# ---- signed envelopes ------------------------------------------------------------------------
def seal(secret: bytes, key: str, value: Any) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    mac = hmac.new(secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()
    return MAGIC + mac + payload


def unseal(secret: bytes, key: str, data: Any) -> Any:
    """The value in a sealed envelope; raises ValueError for anything not sealed by this
    secret under this key (nothing unverified is unpickled)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError("not an envelope")
    data = bytes(data)
    head = len(MAGIC) + _MAC_BYTES
    if len(data) < head or data[:len(MAGIC)] != MAGIC:
        raise ValueError("not an envelope of this format")
    mac, payload = data[len(MAGIC):head], data[head:]
    want = hmac.new(secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want):
        raise ValueError("bad signature")
    return pickle.loads(payload)


# ---- stores (bytes in, bytes out) --------------------------------------------------------------
class Store(Protocol):
    def get_bytes(self, key: str) -> bytes | None: ...
    def set_bytes(self, key: str, data: bytes, ttl_s: int | None) -> None: ...
    def add_bytes(self, key: str, data: bytes, ttl_s: int | None) -> bool: ...
    def delete(self, key: str) -> None: ...


class NullStore:
    """No shared store (CLI, scripts, tests): every read misses."""

    def get_bytes(self, key: str) -> bytes | None:
        return None

    def set_bytes(self, key: str, data: bytes, ttl_s: int | None) -> None:
        return None

    def add_bytes(self, key: str, data: bytes, ttl_s: int | None) -> bool:
        return True

    def delete(self, key: str) -> None:
        return None


class MemoryStore:
    """A dict in this process (tests; a single process without background workers)."""

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}
        self._lock = ForkSafeLock()

    def get_bytes(self, key: str) -> bytes | None:
        with self._lock:
            return self._items.get(key)

    def set_bytes(self, key: str, data: bytes, ttl_s: int | None) -> None:
        with self._lock:
            self._items[key] = data

    def add_bytes(self, key: str, data: bytes, ttl_s: int | None) -> bool:
        with self._lock:
            return self._items.setdefault(key, data) is data

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


def open_diskcache(directory: Path, **options: Any) -> Any:
    """A diskcache in a private folder. A folder whose database is damaged (a truncated or
    foreign file) is moved aside and started afresh: a cache never stops a start."""
    import diskcache

    directory = private_dir(Path(directory))
    try:
        return diskcache.Cache(str(directory), **options)
    except Exception as err:                 # sqlite3.DatabaseError, OSError, ...
        aside = directory.with_name(f"{directory.name}.damaged-{os.getpid()}-{int(time.time())}")
        log.warning("cache folder %s is damaged (%s: %s); moved to %s and started afresh",
                    directory, type(err).__name__, err, aside.name)
        os.replace(directory, aside)
        import shutil

        shutil.rmtree(aside, ignore_errors=True)
        return diskcache.Cache(str(private_dir(directory)), **options)


class DiskStore:
    """A diskcache folder shared by the processes of one machine, bounded in size (least
    recently used values are evicted first). Opened lazily per process."""

    def __init__(self, directory: Path, size_limit_mb: float | None = None) -> None:
        self.directory = Path(directory)
        limit = size_limit_mb if size_limit_mb is not None else float(
            os.environ.get("DECENTRA_CACHE_MAX_MB", DEFAULT_SIZE_LIMIT_MB))
        self.size_limit = int(limit * 2**20)
        self._handle: Any = None
        self._pid = -1
        self._lock = ForkSafeLock()

    def _cache(self) -> Any:
        if self._handle is None or self._pid != os.getpid():
            with self._lock:
                if self._handle is None or self._pid != os.getpid():
                    self._handle = open_diskcache(
                        self.directory, size_limit=self.size_limit,
                        eviction_policy="least-recently-used", cull_limit=50,
                        timeout=10, disk_min_file_size=2**16)
                    self._pid = os.getpid()
        return self._handle

    def get_bytes(self, key: str) -> bytes | None:
        value = self._cache().get(key)
        return value if isinstance(value, bytes) else None

    def set_bytes(self, key: str, data: bytes, ttl_s: int | None) -> None:
        self._cache().set(key, data, expire=ttl_s)

    def add_bytes(self, key: str, data: bytes, ttl_s: int | None) -> bool:
        return bool(self._cache().add(key, data, expire=ttl_s))

    def delete(self, key: str) -> None:
        self._cache().delete(key)

    def volume_bytes(self) -> int:
        return int(self._cache().volume())


class RedisStore:
    """Redis (``scripts/serve``): shared by every gunicorn and Celery worker. Bounded by the
    server's ``maxmemory`` with ``allkeys-lru`` and by each entry's time to live."""

    def __init__(self, url: str, prefix: str = "decentra:") -> None:
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._pid = -1

    def _redis(self) -> Any:
        if self._client is None or self._pid != os.getpid():
            import redis

            self._client = redis.Redis.from_url(self.url, socket_timeout=10,
                                                socket_connect_timeout=5)
            self._pid = os.getpid()
        return self._client

    def get_bytes(self, key: str) -> bytes | None:
        value = self._redis().get(self.prefix + key)
        return value if isinstance(value, bytes) else None

    def set_bytes(self, key: str, data: bytes, ttl_s: int | None) -> None:
        self._redis().set(self.prefix + key, data, ex=ttl_s)

    def add_bytes(self, key: str, data: bytes, ttl_s: int | None) -> bool:
        return bool(self._redis().set(self.prefix + key, data, ex=ttl_s, nx=True))

    def delete(self, key: str) -> None:
        self._redis().delete(self.prefix + key)


# ---- the shared cache ------------------------------------------------------------------------
class SharedCache:
    """Typed, versioned, signed values in a :class:`Store`. Every failure of the store or of
    an entry is a miss on read and a logged no-op on write: the shared cache is an
    optimisation, never a reason for a request to fail."""

    def __init__(self, store: Store | None = None, secret: bytes | None = None,
                 ttl_s: int = DEFAULT_TTL_S) -> None:
        self.store: Store = store if store is not None else NullStore()
        self._secret = secret
        self.ttl_s = ttl_s
        self._writer: ThreadPoolExecutor | None = None
        self._writer_pid = -1
        self._lock = ForkSafeLock()

    @property
    def enabled(self) -> bool:
        return not isinstance(self.store, NullStore)

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = secret_key()
        return self._secret

    def get(self, namespace: str, key: str, expected: type[T]) -> T | None:
        """The value shared under (namespace, key) if it is an ``expected`` written by this
        code version with this secret; else None (and a damaged entry is removed)."""
        if not self.enabled:
            return None
        full = versioned_key(namespace, key)
        try:
            data = self.store.get_bytes(full)
        except Exception as err:
            log.warning("shared cache unreachable (%s): %s", type(err).__name__, err)
            return None
        if data is None:
            return None
        try:
            value = unseal(self.secret, full, data)
        except Exception as err:
            log.warning("ignoring a damaged or foreign cache entry %s (%s)", full,
                        type(err).__name__)
            self._forget(full)
            return None
        if not isinstance(value, expected):
            log.warning("ignoring cache entry %s: %s, not %s", full, type(value).__name__,
                        expected.__name__)
            self._forget(full)
            return None
        return value

    def set(self, namespace: str, key: str, value: Any, *, ttl_s: int | None = None,
            background: bool = False, only_new: bool = False) -> None:
        """Share ``value``; ``background``: serialise in a writer thread (large results must
        not delay the request that computed them); ``only_new``: keep an existing entry."""
        if not self.enabled:
            return
        full = versioned_key(namespace, key)
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if background:
            self._executor().submit(self._write, full, value, ttl, only_new)
        else:
            self._write(full, value, ttl, only_new)

    def delete(self, namespace: str, key: str) -> None:
        if self.enabled:
            self._forget(versioned_key(namespace, key))

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait for background writes (tests, shutdown)."""
        with self._lock:
            ex = self._writer if self._writer_pid == os.getpid() else None
        if ex is not None:
            ex.submit(lambda: None).result(timeout=timeout_s)

    def _write(self, full: str, value: Any, ttl: int, only_new: bool) -> None:
        try:
            data = seal(self.secret, full, value)
            if only_new:
                self.store.add_bytes(full, data, ttl)
            else:
                self.store.set_bytes(full, data, ttl)
        except Exception as err:
            log.warning("%s not shared: %s: %s", full, type(err).__name__, err)

    def _forget(self, full: str) -> None:
        with contextlib.suppress(Exception):
            self.store.delete(full)

    def _executor(self) -> ThreadPoolExecutor:
        # one writer thread per process, created on first use (never inherited over a fork)
        with self._lock:
            if self._writer is None or self._writer_pid != os.getpid():
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="decentra-share")
                self._writer_pid = os.getpid()
            return self._writer


_shared = SharedCache()


def shared() -> SharedCache:
    """This process's shared cache (a :class:`NullStore` one until :func:`configure`)."""
    return _shared


def configure(store: Store | None, secret: bytes | None = None) -> SharedCache:
    """Bind this process's shared cache to ``store`` (None: nothing is shared)."""
    global _shared
    _shared = SharedCache(store, secret)
    return _shared


def store_from_url(url: str | None) -> Store:
    """``redis://…`` / ``unix://…`` → :class:`RedisStore`; None or ``disk`` →
    :class:`DiskStore` in the private cache folder."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    if url in (None, "", "disk"):
        return DiskStore(cache_dir("shared"))
    raise DecentraError(f"unknown cache URL {url!r} (redis://…, unix://… or disk)")


# ---- the in-process memo ---------------------------------------------------------------------
class Memo(Generic[K, V]):
    """A bounded in-process least-recently-used memo, safe across threads and ``fork``: at
    most ``size`` entries, the oldest dropped."""

    _all: ClassVar[list[Memo[Any, Any]]] = []

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = ForkSafeLock()
        Memo._all.append(self)

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

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._items))

    @classmethod
    def clear_all(cls) -> None:
        """Empty every memo of this process (tests, benchmarks)."""
        for memo in cls._all:
            memo.clear()


def _reset_threads_after_fork() -> None:
    # A writer thread does not survive fork: the child makes its own on first use.
    _shared._writer = None
    _shared._writer_pid = -1


os.register_at_fork(after_in_child=_reset_threads_after_fork)

__all__ = [
    "CODE_VERSION",
    "DiskStore",
    "Memo",
    "MemoryStore",
    "NullStore",
    "RedisStore",
    "SharedCache",
    "cache_dir",
    "cache_root",
    "configure",
    "private_dir",
    "seal",
    "secret_key",
    "shared",
    "store_from_url",
    "unseal",
    "versioned_key",
]
