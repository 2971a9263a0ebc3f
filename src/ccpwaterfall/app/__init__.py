"""Use cases: one function per user action, under every entry point (``ccp``, a service).

Each takes plain arguments (paths, options) and a ``Loaders`` value, and returns
its result, or the problems that stopped it, as an ``Outcome``; it never prints
or exits. ``cases``: check, run, explain, liability, compare, schema. ``risk``:
margin, stress, size-fund, capital and the end of day, each computing only the
steps it shows.
"""

from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused

__all__ = ["IO_LOADERS", "Loaders", "Outcome", "Problems", "done", "problems_in", "refused"]
