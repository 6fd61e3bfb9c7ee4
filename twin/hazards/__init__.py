"""twin.hazards."""
