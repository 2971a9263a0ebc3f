"""Who defaults on a path: a one-factor copula over the member groups.

Group ``g`` defaults when its latent variable falls below its threshold:
``X_g = sqrt(rho) * Z + sqrt(1 - rho) * e_g`` with ``Z`` (the systematic
factor) and the ``e_g`` independent standard normals (Vasicek's one-factor
model [VASICEK-2002]), and the threshold ``Phi^-1(pd_g)``, so that each group defaults with
its own probability. With ``nu`` degrees of freedom the latent variables are
divided by one ``sqrt(W / nu)`` per path, ``W`` chi-squared with ``nu``
degrees of freedom (a Student t copula: defaults cluster in the tails), and
the threshold is the t quantile.

Given the factor (and ``W``) defaults are independent, each with the
conditional probability ``Phi((c_g * s - sqrt(rho) * Z) / sqrt(1 - rho))``
where ``s = sqrt(W / nu)`` (1 for the Gaussian copula): ``conditional_pd``.
``tail_probability`` integrates the number of defaults over the factor
(Gauss-Hermite), the semi-analytic value the simulation is tested against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Float = NDArray[np.float64]

#: Quadrature nodes of the factor integral.
QUADRATURE_NODES = 150


@dataclass(frozen=True, slots=True, eq=False)
class DefaultModel:
    """Each group's probability of default and the copula that ties them.

    ``pd``: shape (n_groups,), each in [0, 1). ``rho``: the factor loading
    (asset correlation) in [0, 1). ``nu``: degrees of freedom of a Student t
    copula, None for the Gaussian one.
    """

    pd: Float
    rho: float
    nu: float | None = None

    def __post_init__(self) -> None:
        pd = np.asarray(self.pd, dtype=np.float64)
        if pd.ndim != 1 or not np.all((pd >= 0) & (pd < 1)):
            raise ValueError("pd must be a vector of probabilities from 0 to below 1")
        if not 0 <= self.rho < 1:
            raise ValueError("rho must be from 0 to below 1")
        if self.nu is not None and not (self.nu > 0 and math.isfinite(self.nu)):
            raise ValueError("nu must be a positive number")
        object.__setattr__(self, "pd", pd)

    @property
    def n_groups(self) -> int:
        return int(self.pd.size)

    @property
    def thresholds(self) -> Float:
        """Each group's default threshold on its latent variable (-inf for pd 0)."""
        with np.errstate(divide="ignore"):
            if self.nu is None:
                value: Float = stats.norm.ppf(self.pd)
            else:
                value = stats.t.ppf(self.pd, self.nu)
        return value

    def conditional_pd(self, factor: Any, scale: Any = 1.0) -> Float:
        """Each group's default probability given the factor: shape (..., n_groups).

        ``scale``: ``sqrt(W / nu)`` of a t copula (1 for the Gaussian copula).
        """
        z = np.asarray(factor, dtype=np.float64)[..., None]
        w = np.asarray(scale, dtype=np.float64)[..., None]
        shifted = self.thresholds * w - math.sqrt(self.rho) * z
        result: Float = stats.norm.cdf(shifted / math.sqrt(1.0 - self.rho))
        return result


@dataclass(frozen=True, slots=True, eq=False)
class Draws:
    """One chunk of paths: the factor (shape (paths,)) and who defaulted (paths, groups)."""

    factor: Float
    defaulted: NDArray[np.bool_]


def draw(model: DefaultModel, rng: np.random.Generator, n_paths: int) -> Draws:
    """``n_paths`` paths of the copula: the factor first, then the groups' own draws.

    The order of the draws is fixed (factor, chi-squared for t, idiosyncratic
    normals), so the same generator state gives the same paths.
    """
    factor = rng.standard_normal(n_paths)
    scale = None
    if model.nu is not None:
        scale = np.sqrt(rng.chisquare(model.nu, n_paths) / model.nu)
    idio = rng.standard_normal((n_paths, model.n_groups))
    # X_g < c_g  <=>  e_g < (c_g * s - sqrt(rho) Z) / sqrt(1 - rho), with s = sqrt(W / nu)
    # (1 for the Gaussian copula): one comparison per group and path.
    c = model.thresholds
    shift = math.sqrt(model.rho) * factor
    root = math.sqrt(1.0 - model.rho)
    if scale is None and np.all(c == c[0]):
        level = ((c[0] - shift) / root)[:, None]  # one level per path: no (paths, groups) temporary
    elif scale is None:
        level = (c[None, :] - shift[:, None]) / root
    else:
        level = (c[None, :] * scale[:, None] - shift[:, None]) / root
    return Draws(factor=factor, defaulted=idio < level)


def count_distribution(probabilities: Float) -> Float:
    """The distribution of the number of independent defaults (Poisson binomial).

    ``probabilities``: shape (..., n); returns shape (..., n + 1).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    dist = np.zeros((*p.shape[:-1], p.shape[-1] + 1))
    dist[..., 0] = 1.0
    for j in range(p.shape[-1]):
        pj = p[..., j : j + 1]
        shifted = np.zeros_like(dist)
        shifted[..., 1:] = dist[..., :-1] * pj
        dist = dist * (1.0 - pj) + shifted
    return dist


def tail_probability(model: DefaultModel, at_least: int) -> float:
    """P(at least ``at_least`` groups default), integrated over the factor.

    Gaussian copula only: the conditional count is Poisson binomial, the factor
    integral is Gauss-Hermite with ``QUADRATURE_NODES`` nodes.
    """
    if model.nu is not None:
        raise ValueError("the semi-analytic tail is for the Gaussian copula")
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    weights = weights / math.sqrt(2.0 * math.pi)
    dist = count_distribution(model.conditional_pd(nodes))
    tail = dist[:, at_least:].sum(axis=1)
    return float(np.dot(weights, tail))


def binomial_tail(n: int, p: float, at_least: int) -> float:
    """P(at least ``at_least`` of ``n`` independent defaults of probability ``p``)."""
    return float(stats.binom.sf(at_least - 1, n, p))
