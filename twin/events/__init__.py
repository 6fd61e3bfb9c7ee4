"""Risk over a year: design-storm event sets, return-period maps and expected annual damage.

Pure functions over numpy arrays, SI units inside (s, m, m/s); mm/h and minutes only at the
edges (the IDF table file and the scenario block), converted there.

* :mod:`twin.events.frequency`: return period, annual exceedance frequency, the Gumbel
  reduced variate and interpolation between return periods.
* :mod:`twin.events.idf`: intensity-duration-frequency relations (a table, or the formula
  ``a / (t^n + b)`` per return period), interpolated between durations (log-log).
* :mod:`twin.events.idf_csv`: reading and checking an IDF table file.
* :mod:`twin.events.hyetograph`: a block hyetograph and its form for the flood scenario.
* :mod:`twin.events.huff`: Huff's median time distributions (quartiles 1-4).
* :mod:`twin.events.alternating_block`: the alternating block method.
* :mod:`twin.events.design_storm`: the event set's hyetographs from the ``events:`` block.
* :mod:`twin.events.annual`: the loss-exceedance curve with its tails and the expected annual damage.
* :mod:`twin.events.exceedance`: the return period at which a value is first exceeded, and its AEP.
* :mod:`twin.events.schema`: the ``events:`` scenario block.

See ``docs/risk.md``, "Event sets and annual damage".
"""
