"""The eight elements of the dihedral group D4 acting on (B, H, W, C) images."""

from __future__ import annotations

from keras import ops

#: Element names in the order used everywhere: rotations by k * 90 degrees, then the same after a flip.
D4_ELEMENTS = ("e", "r90", "r180", "r270", "f", "r90f", "r180f", "r270f")


def rot90(images, k: int = 1):
    """Rotate (B, H, W, C) images counter-clockwise by k * 90 degrees in the (H, W) plane."""
    k = k % 4
    for _ in range(k):
        images = ops.flip(ops.transpose(images, (0, 2, 1, 3)), axis=1)
    return images


def d4_transform(images, element: int):
    """Apply D4 element ``element`` (0..7; see ``D4_ELEMENTS``): a horizontal flip (for 4..7)
    followed by a rotation by (element % 4) * 90 degrees. ``images``: (B, H, W, C)."""
    if not 0 <= int(element) < 8:
        raise ValueError(f"`element` must be in 0..7 (D4 has 8 elements), got {element!r}.")
    if len(images.shape) != 4:
        raise ValueError(f"`images` must be (batch, height, width, channels), got shape {tuple(images.shape)}.")
    if element >= 4:
        images = ops.flip(images, axis=2)
    return rot90(images, element % 4)


def d4_inverse(element: int) -> int:
    """Index of the inverse element: rotations invert to the opposite rotation, flips to themselves."""
    return (4 - element) % 4 if element < 4 else element
