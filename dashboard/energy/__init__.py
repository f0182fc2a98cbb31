"""Pure computation on numpy arrays shaped (hours, profiles). Imports only dashboard.domain.

numba's parallel kernels run on Intel TBB when the ``tbb`` package is installed (a dependency):
TBB's thread pool survives ``fork``, GNU OpenMP's does not ("Terminating: fork() called from a
process already using GNU OpenMP"), and Celery's prefork pool and gunicorn fork. The pip
package puts ``libtbb.so.12`` in the environment's ``lib`` folder, which the loader does not
search, so it is loaded here by path before any kernel starts its threads.
``NUMBA_THREADING_LAYER`` set in the environment wins.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path


def _prefer_tbb() -> str | None:
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return None
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        lib = Path(prefix) / "lib" / "libtbb.so.12"
        if lib.exists():
            try:
                ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            import numba

            numba.config.THREADING_LAYER = "tbb"  # type: ignore[attr-defined]
            return "tbb"
    return None


THREADING_LAYER = _prefer_tbb()
