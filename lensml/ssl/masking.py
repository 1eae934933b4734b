"""Token masks generated in-graph with ``keras.random`` (same code on TF and JAX).

MAE: each image keeps exactly ``round((1 - ratio) * N)`` patches, chosen by an argsort of
uniform noise, so every image in the batch has the same number of visible tokens and the
encoder runs on a dense (B, n_keep, D) tensor.

I-JEPA: block masks on the (grid_h, grid_w) token grid. As in I-JEPA's mask collator, one
block size per batch (drawn from the scale and aspect ranges) and one position per image.
Every mask is a dense (B, N) float tensor (1 = in the block), so no ragged shapes appear in
the compiled step. The context is one block with the target blocks removed; the JEPA
encoder sees it through a key mask. We chose in-graph masks over a numpy collator because
they need no input-pipeline change and run inside ``fit`` on both backends.
"""

from __future__ import annotations

import math

import keras
from keras import ops


def num_kept(num_patches, mask_ratio):
    """Visible patches MAE keeps: round((1 - mask_ratio) * num_patches), at least 1."""
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio={mask_ratio!r}: expected a float in [0, 1)")
    return max(1, int(round((1.0 - mask_ratio) * num_patches)))


def random_masking(batch_size, num_patches, mask_ratio, seed):
    """MAE masking by argsort of noise.

    Returns (keep_ids (B, n_keep) int32, restore_ids (B, N) int32, mask (B, N) float32 with
    1 = hidden). ``seed``: a keras.random.SeedGenerator (or int).
    """
    n_keep = num_kept(num_patches, mask_ratio)
    noise = keras.random.uniform((batch_size, num_patches), seed=seed)
    shuffle = ops.cast(ops.argsort(noise, axis=-1), "int32")
    restore = ops.cast(ops.argsort(shuffle, axis=-1), "int32")
    keep = shuffle[:, :n_keep]
    mask = ops.cast(restore >= n_keep, "float32")
    return keep, restore, mask


def block_size(num_patches_h, num_patches_w, scale, aspect):
    """Block height and width (in tokens) for an area fraction `scale` and aspect h/w, as in
    I-JEPA: h = round(sqrt(scale * N * aspect)), w = round(sqrt(scale * N / aspect)), both
    clipped to [1, grid - 1] (grid when the grid side is 1). Tensors in, int32 tensors out."""
    n = float(num_patches_h * num_patches_w)
    area = scale * n
    h = ops.round(ops.sqrt(area * aspect))
    w = ops.round(ops.sqrt(area / aspect))
    h = ops.clip(h, 1, max(num_patches_h - 1, 1))
    w = ops.clip(w, 1, max(num_patches_w - 1, 1))
    return ops.cast(h, "int32"), ops.cast(w, "int32")


def sample_block(batch_size, grid, scale_range, aspect_range, seed):
    """One rectangular block per image, one size per call.

    grid: (grid_h, grid_w). scale_range: (low, high) fraction of the N tokens.
    aspect_range: (low, high) height / width. Returns (mask (B, grid_h * grid_w) float32,
    h, w int32 scalars).
    """
    gh, gw = grid
    scale = keras.random.uniform((), scale_range[0], scale_range[1], seed=seed)
    # Aspect drawn log-uniformly so h/w and w/h are equally likely for a symmetric range.
    log_lo, log_hi = math.log(aspect_range[0]), math.log(aspect_range[1])
    aspect = ops.exp(keras.random.uniform((), log_lo, log_hi, seed=seed))
    h, w = block_size(gh, gw, scale, aspect)
    u_top = keras.random.uniform((batch_size, 1), seed=seed)
    u_left = keras.random.uniform((batch_size, 1), seed=seed)
    top = ops.floor(u_top * ops.cast(gh - h + 1, "float32"))
    left = ops.floor(u_left * ops.cast(gw - w + 1, "float32"))
    rows = ops.cast(ops.repeat(ops.arange(gh), gw), "float32")[None, :]
    cols = ops.cast(ops.tile(ops.arange(gw), (gh,)), "float32")[None, :]
    hf, wf = ops.cast(h, "float32"), ops.cast(w, "float32")
    inside = ((rows >= top) & (rows < top + hf) & (cols >= left) & (cols < left + wf))
    return ops.cast(inside, "float32"), h, w


def jepa_masks(batch_size, grid, seed, num_targets=4, target_scale=(0.15, 0.2),
               target_aspect=(0.75, 1.5), context_scale=(0.85, 1.0)):
    """I-JEPA masks: `num_targets` target blocks and one context block (aspect 1) with the
    targets removed.

    Returns (context (B, N) float32, targets (num_targets, B, N) float32). The context never
    overlaps a target. An image whose context comes out empty would attend to nothing;
    the attention stays finite (see TransformerEncoder) and the image adds no signal.
    """
    targets = []
    for _ in range(num_targets):
        m, _, _ = sample_block(batch_size, grid, target_scale, target_aspect, seed)
        targets.append(m)
    targets = ops.stack(targets, axis=0)
    context, _, _ = sample_block(batch_size, grid, context_scale, (1.0, 1.0), seed)
    union = ops.max(targets, axis=0)
    return context * (1.0 - union), targets
