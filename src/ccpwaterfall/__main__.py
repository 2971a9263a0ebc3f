"""``python -m ccpwaterfall``: the same as the ``ccp`` command."""

from __future__ import annotations

from ccpwaterfall.cli.main import main

main()
