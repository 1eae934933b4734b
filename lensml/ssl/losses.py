"""Self-supervised objectives, written once with ``keras.ops`` so TF and JAX share them.

Every function takes plain tensors and returns a scalar float32 loss (mean over the batch).
"""

from __future__ import annotations

from keras import ops


def l2_normalize(x, axis=-1):
    """Unit-norm rows (``keras.ops.normalize``). x: (..., D) -> (..., D); a zero row stays 0."""
    return ops.normalize(x, axis=axis, order=2)


def nt_xent_loss(z1, z2, temperature=0.5):
    """NT-Xent (SimCLR) loss of two views.

    z1, z2: (batch, dim) projections of the two views of the same images (row i of z1 and
    row i of z2 are the positive pair, every other row of either view is a negative).
    temperature: softmax temperature, > 0. Returns the mean cross-entropy over all 2*batch
    anchors.
    """
    if temperature <= 0:
        raise ValueError(f"temperature={temperature!r}: expected a positive float")
    z = l2_normalize(ops.concatenate([z1, z2], axis=0))
    n2 = ops.shape(z)[0]
    n = n2 // 2
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    # An anchor must not be its own negative: push the diagonal far below any cosine / T.
    logits = logits - 1e9 * ops.eye(n2, dtype=logits.dtype)
    positives = ops.concatenate([ops.arange(n, n2), ops.arange(0, n)], axis=0)
    log_probs = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(positives, -1), axis=-1)
    return -ops.mean(picked)


def negative_cosine(p, z):
    """Mean negative cosine similarity -<p/|p|, z/|z|> (SimSiam). p, z: (batch, dim).

    The caller applies the stop-gradient to z (the target branch).
    """
    return -ops.mean(ops.sum(l2_normalize(p) * l2_normalize(z), axis=-1))


def byol_loss(p, z):
    """BYOL regression loss 2 - 2 cos(p, z), mean over the batch. p, z: (batch, dim)."""
    return 2.0 + 2.0 * negative_cosine(p, z)


def dino_loss(student_logits, teacher_logits, center, student_temperature=0.1,
              teacher_temperature=0.04):
    """DINO cross-entropy between sharpened, centred teacher and student distributions.

    student_logits: list of (batch, K) outputs, one per student view (global views first).
    teacher_logits: list of (batch, K) outputs, one per global view; teacher view i is not
    compared with student view i (same crop). center: (K,) running mean of the teacher
    outputs. Returns the mean of H(teacher_i, student_j) over all pairs i != j.
    """
    if not teacher_logits or len(student_logits) < 2:
        raise ValueError("dino_loss needs at least one teacher view and two student views, got "
                         f"{len(teacher_logits)} and {len(student_logits)}")
    teacher_probs = [ops.softmax((ops.stop_gradient(t) - center) / teacher_temperature, axis=-1)
                     for t in teacher_logits]
    student_logp = [ops.log_softmax(s / student_temperature, axis=-1) for s in student_logits]
    total = 0.0
    terms = 0
    for i, t in enumerate(teacher_probs):
        for j, s in enumerate(student_logp):
            if i == j:
                continue
            total = total + ops.mean(ops.sum(-t * s, axis=-1))
            terms += 1
    return total / terms


def smooth_l1(prediction, target, beta=1.0, mask=None):
    """Smooth-L1 (Huber with threshold beta) averaged over the last axis and the masked items.

    prediction, target: (..., D). mask: optional (...) weights (1 = counted). Mean over
    counted items; an all-zero mask gives 0, not NaN.
    """
    import keras

    # smooth-L1 with threshold beta is Huber with delta beta, divided by beta
    per = keras.losses.huber(target, prediction, delta=beta) / beta
    if mask is None:
        return ops.mean(per)
    mask = ops.cast(mask, per.dtype)
    return ops.sum(per * mask) / ops.maximum(ops.sum(mask), 1.0)


def masked_patch_mse(pred_patches, target_patches, mask, normalize_target=True, epsilon=1e-6):
    """MAE reconstruction loss on the masked patches only.

    pred_patches, target_patches: (batch, num_patches, patch_pixels). mask: (batch,
    num_patches), 1 where the patch was hidden from the encoder. normalize_target: compare
    against each target patch standardised by its own mean and variance (MAE's
    ``norm_pix_loss``). Returns the mean squared error per pixel over hidden patches.
    """
    if normalize_target:
        mean = ops.mean(target_patches, axis=-1, keepdims=True)
        var = ops.var(target_patches, axis=-1, keepdims=True)
        target_patches = (target_patches - mean) / ops.sqrt(var + epsilon)
    per_patch = ops.mean(ops.square(pred_patches - target_patches), axis=-1)
    mask = ops.cast(mask, per_patch.dtype)
    return ops.sum(per_patch * mask) / ops.maximum(ops.sum(mask), 1.0)
