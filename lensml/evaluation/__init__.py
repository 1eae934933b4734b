"""lensml.evaluation."""
