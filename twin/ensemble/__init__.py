"""Ensemble members: seeded draws and their scenarios, run as dask tasks.
"""
