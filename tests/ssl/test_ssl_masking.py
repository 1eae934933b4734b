"""MAE patch masks and I-JEPA block masks obey their counts and geometry."""

import keras
import numpy as np
import pytest
from keras import ops

from lensml.ssl import masking


@pytest.mark.parametrize("ratio", [0.5, 0.6, 0.75, 0.9])
def test_mae_keeps_exactly_round_of_visible(ratio):
    n = 64
    keep, restore, mask = masking.random_masking(5, n, ratio, keras.random.SeedGenerator(3))
    keep, restore, mask = (ops.convert_to_numpy(a) for a in (keep, restore, mask))
    n_keep = int(round((1 - ratio) * n))
    assert keep.shape == (5, n_keep)
    np.testing.assert_array_equal(mask.sum(axis=1), n - n_keep)
    for b in range(5):
        assert len(set(keep[b])) == n_keep  # no patch kept twice
        np.testing.assert_array_equal(mask[b, keep[b]], 0.0)  # kept patches are visible
        # restore is the inverse permutation of the shuffle
        assert sorted(restore[b]) == list(range(n))
    # different images get different masks
    assert not np.array_equal(mask[0], mask[1])


def test_mae_mask_ratio_validation():
    with pytest.raises(ValueError, match="mask_ratio"):
        masking.num_kept(16, 1.0)


def _boxes(mask_row, grid):
    m = mask_row.reshape(grid)
    rows, cols = np.nonzero(m)
    return m, rows, cols


def test_jepa_blocks_scale_aspect_count_and_no_overlap():
    grid = (16, 16)
    n = grid[0] * grid[1]
    seed = keras.random.SeedGenerator(0)
    for _ in range(2):
        context, targets = masking.jepa_masks(6, grid, seed)
        context, targets = ops.convert_to_numpy(context), ops.convert_to_numpy(targets)
        assert targets.shape == (4, 6, n) and context.shape == (6, n)
        for t in range(4):
            sizes = set()
            for b in range(6):
                m, rows, cols = _boxes(targets[t, b], grid)
                h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
                assert m.sum() == h * w  # a full rectangle
                sizes.add((h, w))
                # scale 0.15-0.2 and aspect 0.75-1.5, up to rounding of h and w to integers
                assert 0.15 * n - (h + w) <= h * w <= 0.2 * n + (h + w)
                assert (0.75 * w - 1) <= h <= (1.5 * w + 1)
            assert len(sizes) == 1  # one block size per batch, as in I-JEPA
        # the context never overlaps a target, and holds tokens
        assert np.all(context * targets.max(axis=0) == 0)
        assert np.all(context.sum(axis=1) > 0)


def test_jepa_context_block_scale():
    grid = (16, 16)
    mask, h, w = masking.sample_block(4, grid, (0.85, 1.0), (1.0, 1.0), keras.random.SeedGenerator(1))
    h, w = int(ops.convert_to_numpy(h)), int(ops.convert_to_numpy(w))
    assert h == w  # aspect 1
    assert 0.85 * 256 - 2 * h <= h * w <= 256
    np.testing.assert_array_equal(ops.convert_to_numpy(mask).sum(axis=1), h * w)


def test_jepa_masks_are_reproducible_with_a_seed():
    a = masking.jepa_masks(2, (8, 8), keras.random.SeedGenerator(7))
    b = masking.jepa_masks(2, (8, 8), keras.random.SeedGenerator(7))
    np.testing.assert_array_equal(ops.convert_to_numpy(a[1]), ops.convert_to_numpy(b[1]))
