"""The ground every stage stands on: errors, grid, rasters, class codes, field registries, the CityTwin,
the conservative remap, atomic writes, YAML with line numbers, plausibility bounds.
"""
