"""Run every benchmark: each ``benchmarks/bench_*.py`` module's ``main()``, in name order."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

import benchmarks


def main() -> None:
    """Import each ``bench_*`` module of this package and call its ``main()``."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== benchmarks.{name}", flush=True)
        run: Callable[[], None] = module.main
        run()


if __name__ == "__main__":
    main()
