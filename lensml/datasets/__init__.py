"""lensml.datasets."""
