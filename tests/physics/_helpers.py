"""Shared helpers of the physics tests."""

import numpy as np
from keras import ops


def to_numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def assert_close(actual, expected, rtol=1e-4, atol_frac=1e-5, err_msg=""):
    """|actual - expected| <= rtol |expected| + atol_frac * max|expected| (elementwise).

    The absolute floor is a small fraction of the field's scale, for components that cross
    zero (e.g. alpha_y on the x axis), where a relative tolerance means nothing.
    """
    actual = to_numpy(actual).astype(np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    atol = atol_frac * float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=err_msg)


def run(fn, *args, **static):
    """Call ``fn(*args, **static)``; on JAX under ``jax.jit`` (args traced, ``static`` fixed).

    JAX compiles every op separately when run eagerly, which dominates test time on a
    small CPU; one jit per call site is several times faster and also checks that the
    physics traces (no Python-side use of tensor values).
    """
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(lambda *a: fn(*a, **static))(*args)
    return fn(*args, **static)
