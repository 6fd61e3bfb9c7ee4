"""twin.hazards.flood."""
