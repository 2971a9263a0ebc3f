"""The default model: published binomial tails, the one-factor Gaussian copula, the t copula."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from ccpwaterfall.simulation.defaults import (
    DefaultModel,
    binomial_tail,
    count_distribution,
    draw,
    tail_probability,
)

# P(3 or more of n independent members default), binomial.
BINOMIAL = [
    (0.01, 10, 1.13849118e-4),
    (0.01, 20, 1.00357617e-3),
    (0.01, 50, 1.38172708e-2),
    (0.01, 100, 7.93732023e-2),
    (0.005, 10, 1.46109423e-5),
    (0.005, 20, 1.33700359e-4),
    (0.005, 50, 2.05554411e-3),
    (0.005, 100, 1.41029165e-2),
]
# One-factor Gaussian copula, n = 20, p = 0.01: P(3 or more), integral over the factor.
COPULA = [(0.1, 4.06576325e-3), (0.2, 8.75329376e-3), (0.5, 2.09943202e-2)]


@pytest.mark.parametrize(("p", "n", "expected"), BINOMIAL)
def test_independent_defaults_reproduce_the_binomial_tail(
    p: float, n: int, expected: float
) -> None:
    assert binomial_tail(n, p, 3) == pytest.approx(expected, rel=1e-8)
    # rho = 0: the copula integral is the binomial tail.
    assert tail_probability(DefaultModel(np.full(n, p), 0.0), 3) == pytest.approx(
        expected, rel=1e-8
    )


@pytest.mark.parametrize(("rho", "expected"), COPULA)
def test_gaussian_copula_tail_matches_the_factor_integral(rho: float, expected: float) -> None:
    assert tail_probability(DefaultModel(np.full(20, 0.01), rho), 3) == pytest.approx(
        expected, rel=1e-8
    )


def test_conditional_default_probability_is_vasicek_formula() -> None:
    model = DefaultModel(np.array([0.01, 0.05, 0.2]), 0.3)
    normal = NormalDist()
    for z in (-3.0, -1.0, 0.0, 2.5):
        got = model.conditional_pd(z)
        for g, p in enumerate(model.pd.tolist()):
            want = normal.cdf((normal.inv_cdf(p) - math.sqrt(0.3) * z) / math.sqrt(0.7))
            assert got[g] == pytest.approx(want, rel=1e-12)


def test_count_distribution_of_unequal_probabilities_is_exact() -> None:
    dist = count_distribution(np.array([0.5, 0.25]))
    assert dist.tolist() == [0.375, 0.5, 0.125]


@pytest.mark.parametrize(("rho", "expected"), [(0.0, 1.00357617e-3), *COPULA])
def test_simulated_frequency_is_within_four_standard_errors(rho: float, expected: float) -> None:
    n_paths = 200_000
    draws = draw(DefaultModel(np.full(20, 0.01), rho), np.random.default_rng(11), n_paths)
    frequency = float((draws.defaulted.sum(axis=1) >= 3).mean())
    error = math.sqrt(expected * (1 - expected) / n_paths)
    assert abs(frequency - expected) < 4 * error


def test_t_copula_keeps_each_marginal_probability_and_fattens_the_tail() -> None:
    n_paths = 200_000
    pd = np.full(20, 0.01)
    t_draws = draw(DefaultModel(pd, 0.2, nu=4.0), np.random.default_rng(5), n_paths)
    marginal = float(t_draws.defaulted.mean())
    error = math.sqrt(0.01 * 0.99 / (n_paths * 20))
    # Defaults of one path are correlated: allow for it with a wider band.
    assert abs(marginal - 0.01) < 10 * error
    t_tail = float((t_draws.defaulted.sum(axis=1) >= 5).mean())
    gaussian_tail = tail_probability(DefaultModel(pd, 0.2), 5)
    assert t_tail > gaussian_tail


def test_same_generator_state_gives_the_same_paths() -> None:
    model = DefaultModel(np.full(5, 0.1), 0.3, nu=6.0)
    first = draw(model, np.random.default_rng(3), 1000)
    second = draw(model, np.random.default_rng(3), 1000)
    assert np.array_equal(first.defaulted, second.defaulted)
    assert np.array_equal(first.factor, second.factor)


def test_model_refuses_a_probability_of_one() -> None:
    with pytest.raises(ValueError, match="pd"):
        DefaultModel(np.array([1.0]), 0.2)
