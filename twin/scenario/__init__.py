"""twin.scenario.schema."""
