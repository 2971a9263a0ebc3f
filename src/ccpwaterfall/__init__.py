"""ccpwaterfall: the default waterfall of a central counterparty (CCP).

Layers, bottom to top: ``domain`` (value objects, exact money), ``ledger``
(journal of balanced entries), ``waterfall`` (loss allocation), ``risk``
(margin, stress tests, Cover-N, fund sizing, capital), ``lifecycle`` (default
management drills tying risk to the waterfall), ``io`` (files), ``reports``
(tables) and ``cli`` (the ``ccp`` command).
"""

__version__ = "0.1.0"
