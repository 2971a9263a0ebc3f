"""Monte Carlo over the waterfall: how often each tranche is reached, who pays, contagion.

Defaults come from a one-factor copula over the member groups
(``simulation.defaults``); the same factor picks the market state among the
risk case's stress scenarios; every path runs through the rulebook in integer
minor units, all paths at once (``simulation.paths``), and a sample of paths
is run again through the exact engine, which must agree to the minor unit.
"""
