"""twin.risk.accumulator."""
