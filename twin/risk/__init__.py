"""Risk in CLIMADA's terms: hazard maps x exposure (buildings) x impact functions -> impacts; the
statistics a hazard declares (RiskSpec) and their accumulators.
"""
