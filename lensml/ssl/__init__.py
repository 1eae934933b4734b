"""lensml.ssl."""
