"""lensml.layers."""
