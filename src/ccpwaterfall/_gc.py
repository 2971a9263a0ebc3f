"""Holding Python's cyclic garbage collector while millions of small objects are made.

Reference counting frees what the engine and the store make (they build no
reference cycles); each collection those allocations would set off walks the
whole heap, which for a run of 100,000 members costs a tenth or more of the
run. The collector is held only for the duration, and only if it was running.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_held() -> Iterator[None]:
    """No cyclic collection inside the block; the collector as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
