"""The eight elements of the dihedral group D4 acting on (B, H, W, C) images.

The action itself is ``lensml.layers.d4`` (written once, shared with the D4 layers):
element ``g = 4 * m + r`` mirrors left-right ``m`` times, then rotates by ``r`` quarter
turns counter-clockwise (numpy ``rot90``).
"""

from __future__ import annotations

from lensml.layers.d4 import d4_transform, d4_transform_fields, group_inverse

#: Element names in index order: rotations by r * 90 degrees, then the same after a mirror.
D4_ELEMENTS = ("e", "r90", "r180", "r270", "m", "r90m", "r180m", "r270m")


def d4_orbit(images, elements=range(8)):
    """``images`` (N, H, H, C) transformed by each of ``elements``, stacked along the batch as
    one array (len(elements) N, H, H, C), element-major: one forward pass for the whole orbit."""
    import numpy as np

    images = np.asarray(images, dtype=np.float32)
    return np.concatenate([d4_transform(images, g, xp=np) for g in elements])


def d4_inverse(element: int) -> int:
    """Index of the inverse element (``lensml.layers.d4.group_inverse``)."""
    return group_inverse(element)


__all__ = ["D4_ELEMENTS", "d4_inverse", "d4_orbit", "d4_transform", "d4_transform_fields"]
