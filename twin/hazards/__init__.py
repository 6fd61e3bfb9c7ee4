"""The hazard interface, the registry of hazards and the scenario model built from it; one
subpackage per hazard (flood, fire).
"""
