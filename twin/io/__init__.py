"""Files of a run: netCDF, COG and CSV writers, provenance, run folders and locks, gridded rainfall,
progress bars.
"""
