"""Pure numerical kernels: functions over numpy arrays, SI units, no file I/O, no printing.

Kernels never import :mod:`twin` or :mod:`viz`.
"""
