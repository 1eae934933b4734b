"""Derivatives of a position-wise field by automatic differentiation, on TensorFlow or JAX.

``keras.ops`` has no gradient operator, so this is the one place of ``lensml.physics`` that
calls a backend's own autodiff (``tf.GradientTape`` or ``jax.vjp``); the field itself is
written in ``keras.ops``. "Position-wise": the value at each position depends on that position
only (a deflection field: alpha(theta_i) depends on theta_i), so the diagonal of the Jacobian
is the gradient of the field's sum.
"""

from __future__ import annotations

from typing import Callable

import keras
from keras import ops


def field_jacobian(field: Callable, x, y):
    """The four derivatives of a 2-component position-wise field.

    Args:
        field: ``field(x, y) -> (fx, fy)`` in keras.ops (e.g. a deflection, arcsec).
        x, y: positions (arcsec), float32 tensors broadcastable against the field's parameters.

    Returns:
        ``(d fx/dx, d fx/dy, d fy/dx, d fy/dy)``, each of the field's (broadcast) shape; for a
        deflection, the lensing potential's hessian (f_xx, f_xy, f_yx, f_yy) as lenstronomy orders it.
    """
    shape = ops.shape(field(x, y)[0])
    x, y = ops.broadcast_to(x, shape), ops.broadcast_to(y, shape)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        (fx, fy), pull = jax.vjp(field, x, y)
        ones, zeros = ops.ones_like(fx), ops.zeros_like(fx)
        fxx, fxy = pull((ones, zeros))
        fyx, fyy = pull((zeros, ones))
        return fxx, fxy, fyx, fyy
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            tape.watch(y)
            fx, fy = field(x, y)
        zero = tf.UnconnectedGradients.ZERO  # a component that does not depend on x or y
        fxx, fxy = tape.gradient(fx, [x, y], unconnected_gradients=zero)
        fyx, fyy = tape.gradient(fy, [x, y], unconnected_gradients=zero)
        return fxx, fxy, fyx, fyy
    raise NotImplementedError(f"field_jacobian: the {backend!r} backend is not supported (TensorFlow or JAX)")
