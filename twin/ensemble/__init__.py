"""twin.ensemble.cluster."""
