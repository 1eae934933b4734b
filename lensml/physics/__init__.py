"""lensml.physics."""
