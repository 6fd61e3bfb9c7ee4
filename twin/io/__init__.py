"""twin.io."""
