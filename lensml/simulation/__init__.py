"""lensml.simulation."""
