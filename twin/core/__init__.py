"""twin.core."""
