"""lensml.experiments."""
