"""Chunks of paths on a ``dask.distributed`` cluster: the same figures as in process.

The caller brings the client; this module imports no Dask code. The market
(book, default model, capital) is scattered once to every worker; each task
runs one chunk from its own seed (``SeedSequence.spawn``) and sends back only
its summary; the summaries are merged in chunk order, as in process, so the
same seed gives identical figures either way. A run whose tails need more
than one pass runs the same chunks again, each pass with its plan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.simulation.engine import (
    Accumulator,
    ChunkProgress,
    ChunkRunner,
    ChunkSummary,
    Market,
    SimulationSettings,
    run_chunk,
)
from ccpwaterfall.simulation.tails import Plan


def on_cluster(client: Any) -> ChunkRunner:
    """A chunk runner that runs every chunk as one task on ``client``'s cluster."""

    def run(
        market: Market,
        settings: SimulationSettings,
        seeds: list[np.random.SeedSequence],
        sampled: NDArray[np.int64],
        plan: Plan,
        progress: ChunkProgress,
    ) -> ChunkSummary:
        shared = client.scatter(market, broadcast=True, hash=False)
        futures = [
            client.submit(run_chunk, shared, settings, index, seed, sampled, plan, pure=False)
            for index, seed in enumerate(seeds)
        ]
        tally = Accumulator(settings, plan)
        # In chunk order: the merge is in that order wherever the chunks ran.
        for future in futures:
            tally.add(future.result())
            future.release()
            progress(tally.paths, settings.paths)
        return tally.result()

    return run
