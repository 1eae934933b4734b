"""Tiny options per registered model so the whole suite stays fast (the real default
configurations are built once in test_default_configs): each model's own ``tiny`` size,
registered beside it (``lensml.models.sizes``)."""

from lensml.models import available, size

TINY = {name: size(name, "tiny") for name in available()}
