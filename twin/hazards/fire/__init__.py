"""twin.hazards.fire."""
