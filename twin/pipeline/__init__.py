"""twin.pipeline."""
