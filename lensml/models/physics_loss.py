"""D4LensPINN's physics regularisers on the convergence map, switched on by a schedule."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="lensml")
class PhysicsLoss(keras.layers.Layer):
    """Adds D4LensPINN's physics losses (``add_loss``) and passes kappa through unchanged.

    ``phase * (w_tv * TV(kappa) + w_l1 * mean(kappa) + w_centre * mean(kappa * r^2)
    + w_poisson * mean((laplacian(psi) - 2 kappa)^2))`` with r in arcsec from the image
    centre, the 5-point Laplacian in arcsec^-2 on interior pixels, and TV the mean absolute
    difference of neighbouring pixels. ``phase`` is a non-trainable variable (0 = off,
    1 = on) so that a schedule can switch it inside a compiled ``fit`` on TF and JAX
    (see ``PhysicsLossSchedule``).

    Args:
      pixel_scale: arcsec per pixel.
      tv_weight, l1_weight, centre_weight, poisson_weight: D4LensPINN's 0.005, 0.001, 0.002, 0.01.
      initial_phase: 0.0 (physics losses off until the schedule turns them on) or 1.0.

    Call: ``[kappa (B, H, W, 1), psi (B, H, W, 1)]`` -> kappa. Runs in float32.

    Example:

    ```python
    import numpy as np
    from lensml.models import PhysicsLoss
    from lensml.physics import PoissonSolver

    kappa = np.random.rand(2, 64, 64, 1).astype("float32")
    psi, _ = PoissonSolver(pixel_scale=0.101)(kappa)
    layer = PhysicsLoss(pixel_scale=0.101, initial_phase=1.0)
    kappa = layer([kappa, psi])  # passes kappa through and adds its regularisers to layer.losses
    ```
    """

    def __init__(self, pixel_scale: float, tv_weight: float = 0.005, l1_weight: float = 0.001,
                 centre_weight: float = 0.002, poisson_weight: float = 0.01,
                 initial_phase: float = 0.0, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        if not pixel_scale > 0:
            raise ValueError(f"pixel_scale={pixel_scale!r}: expected a positive number (arcsec)")
        self.pixel_scale = float(pixel_scale)
        self.tv_weight = float(tv_weight)
        self.l1_weight = float(l1_weight)
        self.centre_weight = float(centre_weight)
        self.poisson_weight = float(poisson_weight)
        self.initial_phase = float(initial_phase)

    def build(self, input_shape):
        self.phase = self.add_weight(name="phase", shape=(), trainable=False,
                                     initializer=keras.initializers.Constant(self.initial_phase))

    def terms(self, kappa, psi):
        """The four unweighted loss terms (scalars): tv, l1, centre, poisson."""
        kappa = ops.cast(kappa, "float32")
        psi = ops.cast(psi, "float32")
        h, w = kappa.shape[1], kappa.shape[2]
        tv = ops.mean(ops.abs(kappa[:, 1:] - kappa[:, :-1])) + ops.mean(
            ops.abs(kappa[:, :, 1:] - kappa[:, :, :-1]))
        l1 = ops.mean(ops.abs(kappa))
        ys = (np.arange(h) - (h - 1) / 2) * self.pixel_scale
        xs = (np.arange(w) - (w - 1) / 2) * self.pixel_scale
        r2 = (ys[:, None] ** 2 + xs[None, :] ** 2).astype("float32")[None, :, :, None]
        centre = ops.mean(kappa * ops.convert_to_tensor(r2))
        lap = (psi[:, 2:, 1:-1] + psi[:, :-2, 1:-1] + psi[:, 1:-1, 2:] + psi[:, 1:-1, :-2]
               - 4.0 * psi[:, 1:-1, 1:-1]) / self.pixel_scale ** 2
        poisson = ops.mean(ops.square(lap - 2.0 * kappa[:, 1:-1, 1:-1]))
        return tv, l1, centre, poisson

    def call(self, inputs):
        kappa, psi = inputs
        tv, l1, centre, poisson = self.terms(kappa, psi)
        total = (self.tv_weight * tv + self.l1_weight * l1 + self.centre_weight * centre
                 + self.poisson_weight * poisson)
        self.add_loss(self.phase * total)
        return kappa

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "pixel_scale": self.pixel_scale, "tv_weight": self.tv_weight,
                "l1_weight": self.l1_weight, "centre_weight": self.centre_weight,
                "poisson_weight": self.poisson_weight, "initial_phase": self.initial_phase}


def physics_loss_layers(model: keras.Model) -> list[PhysicsLoss]:
    """All ``PhysicsLoss`` layers inside ``model`` (nested models included)."""
    from lensml.layers.walk import iter_layers

    return [layer for layer in iter_layers(model) if isinstance(layer, PhysicsLoss)]


def set_physics_phase(model: keras.Model, phase: float) -> int:
    """Set the phase (0 off, 1 on) of every ``PhysicsLoss`` in ``model``; returns how many."""
    found = physics_loss_layers(model)
    for layer in found:
        layer.phase.assign(float(phase))
    return len(found)


class PhysicsLossSchedule(keras.callbacks.Callback):
    """D4LensPINN's two-phase schedule: cross-entropy only before ``phase2_epoch`` (0-based),
    cross-entropy + physics losses from then on.

    Args:
      phase2_epoch: first epoch with physics losses (D4LensPINN: 15).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("d4lenspinn", input_shape=(64, 64, 1), num_classes=3)
    schedule = lensml.models.PhysicsLossSchedule(phase2_epoch=2)  # physics losses on from epoch 2
    # model.fit(train, epochs=10, callbacks=[schedule])
    ```
    """

    def __init__(self, phase2_epoch: int):
        super().__init__()
        if not isinstance(phase2_epoch, int) or phase2_epoch < 0:
            raise ValueError(f"phase2_epoch={phase2_epoch!r}: expected an integer >= 0")
        self.phase2_epoch = phase2_epoch

    def on_train_begin(self, logs=None):
        if not physics_loss_layers(self.model):
            raise ValueError("PhysicsLossSchedule: the model has no PhysicsLoss layer")

    def get_config(self):
        return {"phase2_epoch": self.phase2_epoch}

    def on_epoch_begin(self, epoch, logs=None):
        set_physics_phase(self.model, 1.0 if epoch >= self.phase2_epoch else 0.0)
