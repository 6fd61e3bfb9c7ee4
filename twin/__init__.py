"""City digital twin: grids, scenarios, time loops, risk, outputs and the command line.

The twin layer sits between the pure numerical kernels (:mod:`kernels`) and the renderings
(:mod:`viz`); see ``docs/architecture.md``.
"""

__version__ = "0.1.0"
