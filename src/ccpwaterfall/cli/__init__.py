"""The ``ccp`` command: thin entry points that parse, call one function and format."""

from __future__ import annotations
