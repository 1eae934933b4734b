"""lensml.tuning."""
