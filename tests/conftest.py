"""Shared test set-up: the Hypothesis profile of the suite, and common currencies."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from ccpwaterfall.domain import Currency, currency

# CI runs the suite on 2 shared cores: timings vary, so no per-example deadline.
settings.register_profile(
    "suite", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("suite")


@pytest.fixture
def eur() -> Currency:
    return currency("EUR")


@pytest.fixture
def jpy() -> Currency:
    return currency("JPY")
