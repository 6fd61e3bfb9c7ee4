"""The hazard-agnostic scenario: shared blocks, ScenarioFile and reading, units, positions on the grid.
"""
