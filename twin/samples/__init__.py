"""twin.samples."""
