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
    """No cyclic collection inside the block; the collector as it was afterwards.

    The objects made in the block then join the oldest generation without a
    collection (``gc.freeze`` and ``gc.unfreeze`` move them there): otherwise
    the first allocation after the block would walk all of them at once, a
    twentieth of a run of 10,000 members, only to find no garbage among them.
    A full collection still looks at them, and at any cycle made before the
    block, in its turn.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()
