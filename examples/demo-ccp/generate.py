"""Write the demo CCP's data files from ``ccpwaterfall.samples.demo`` with a fixed seed.

Run from the repository root after a change to the demo generator:

    .venv/bin/python examples/demo-ccp/generate.py

It writes members.csv, accounts.csv, instruments.csv and positions.parquet beside
this file. Strikes are listed around the last levels of the price history the
case uses (the ``arch`` package's S&P 500, NASDAQ and WTI series), so the files
and ``case.toml`` agree on today's market.
"""

from __future__ import annotations

from pathlib import Path

from ccpwaterfall.io.market_data import load_history
from ccpwaterfall.io.portfolio import write_portfolio
from ccpwaterfall.samples.demo import demo_portfolio

SEED = 20181228
FACTORS = ("sp500", "nasdaq", "wti")
HERE = Path(__file__).resolve().parent


def write_demo(directory: Path) -> tuple[Path, ...]:
    """Generate the demo portfolio and write its four data files into ``directory``."""
    history = load_history(FACTORS)
    spot = dict(zip(history.factor_ids, history.spot.tolist(), strict=True))
    rows, instruments = demo_portfolio(SEED, spot)
    return write_portfolio(directory, rows, instruments, positions_format="parquet")


if __name__ == "__main__":
    for path in write_demo(HERE):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
