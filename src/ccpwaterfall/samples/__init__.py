"""Sample clearing houses, seeded and reproducible: the demo CCP's data and synthetic CCP days.

Generators of inputs, not part of the risk computation: examples, tests and
benchmarks build their portfolios here, and the risk layer never imports it.
"""
