"""Automatic differentiation on whichever Keras backend is active: the one place of lensml
that chooses between ``tf.GradientTape``, ``jax.grad`` and ``torch.autograd``.

Keras 3 has no backend-agnostic gradient operator, so this module calls the backend's own
(the functions differentiated are written in ``keras.ops``). It lives in ``lensml.physics``,
the lowest layer, because the mass profiles' hessians need it; ``lensml.evaluation``
(saliency, Grad-CAM) uses it too.
"""

from __future__ import annotations

from typing import Callable

import keras
from keras import ops


def gradient(fn: Callable, *xs):
    """Gradients of the scalar ``fn(*xs)`` with respect to each of ``xs``: one backend tensor
    shaped like ``xs[0]`` for one argument, else a tuple."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xs = [tf.convert_to_tensor(x) for x in xs]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            value = fn(*xs)
        grads = tape.gradient(value, xs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    elif backend == "jax":
        import jax

        # One compiled program: un-jitted, JAX compiles every primitive of a model apart
        # (Grad-CAM of LensPINN small: 27 s -> a few s on 2 CPU cores).
        grads = jax.jit(jax.grad(fn, argnums=tuple(range(len(xs)))))(*(ops.convert_to_tensor(x) for x in xs))
    elif backend == "torch":
        import torch

        xs = [ops.convert_to_tensor(x).detach().requires_grad_(True) for x in xs]
        grads = torch.autograd.grad(fn(*xs), xs, allow_unused=True)
        grads = [torch.zeros_like(x) if g is None else g for x, g in zip(xs, grads)]
    else:
        raise NotImplementedError(f"gradients are not available on the {backend!r} backend")
    return grads[0] if len(xs) == 1 else tuple(grads)


def field_jacobian(field: Callable, x, y):
    """The four derivatives of a 2-component position-wise field.

    "Position-wise": the value at each position depends on that position only (a deflection:
    alpha(theta_i) depends on theta_i), so the Jacobian's diagonal is the gradient of the
    field's sum, on positions broadcast to the field's shape.

    Args:
        field: ``field(x, y) -> (fx, fy)`` in keras.ops (e.g. a deflection, arcsec).
        x, y: positions (arcsec), float32 tensors broadcastable against the field's parameters.

    Returns:
        ``(d fx/dx, d fx/dy, d fy/dx, d fy/dy)``, each of the field's (broadcast) shape; for a
        deflection, the lensing potential's hessian (f_xx, f_xy, f_yx, f_yy) as lenstronomy orders it.
    """
    shape = ops.shape(field(x, y)[0])
    x, y = ops.broadcast_to(x, shape), ops.broadcast_to(y, shape)
    f_xx, f_xy = gradient(lambda u, v: ops.sum(field(u, v)[0]), x, y)
    f_yx, f_yy = gradient(lambda u, v: ops.sum(field(u, v)[1]), x, y)
    return f_xx, f_xy, f_yx, f_yy
