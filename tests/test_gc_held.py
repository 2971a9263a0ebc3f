"""The cyclic collector held during a run: restored after, nothing leaked, no walk at the end."""

from __future__ import annotations

import gc
import weakref

from ccpwaterfall._gc import cyclic_gc_held


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_collector_is_restored_as_it_was() -> None:
    assert gc.isenabled()
    with cyclic_gc_held():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_made_in_the_block_are_not_walked_at_its_end_yet_cycles_are_freed() -> None:
    with cyclic_gc_held():
        kept = [[index] for index in range(50_000)]
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        watch = weakref.ref(first)
        del first, second
    # Moved to the oldest generation: the youngest counts nothing to walk.
    assert gc.get_count()[0] < 1_000
    assert len(kept) == 50_000
    assert watch() is not None  # a cycle waits for a full collection ...
    gc.collect()
    assert watch() is None  # ... which frees it
