"""DINO: self-distillation with an EMA teacher, centring and sharpening, global + local views."""

from __future__ import annotations

import keras
from keras import ops

from lensml.ssl.base import SSLTrainer, clone_network, ema_update, feature_dim
from lensml.ssl.heads import dino_projection_head
from lensml.ssl.losses import dino_loss
from lensml.ssl.schedules import cosine_momentum, linear_ramp
from lensml.ssl.views import LensViews

_PKG = "lensml"


@keras.saving.register_keras_serializable(package=_PKG)
class DINO(SSLTrainer):
    """Self-distillation with no labels.

    encoder: keras.Model images (B, H, W, C) -> (B, D); student = encoder + head, teacher =
    EMA copy (cosine momentum from `base_momentum` to 1 over `total_steps`).
    Views: `num_global` = 2 lens-safe global views (D4, noise, blur; teacher and student)
    and `num_local` local views (student only): zoomed-in crops resized to the input size,
    the one place where crops are used, because DINO's local-to-global matching is built on
    them. local_zoom: RandomZoom factor range (negative = zoom in). global_views /
    local_views: Keras layers replacing those defaults.
    centre: a variable (out_dim,) updated as c <- cm * c + (1 - cm) * mean(teacher outputs).
    Teacher temperature: `warmup_teacher_temperature` rising linearly to `teacher_temperature`
    over the first `teacher_warmup_steps` steps (DINO: 0.04 -> 0.07 over 30 epochs; a sharper
    teacher early on keeps the start stable); 0 warm-up steps use `teacher_temperature` throughout.
    """

    keras_parts = ("encoder", "global_views", "local_views")

    def __init__(self, encoder, out_dim=256, hidden_dim=256, bottleneck_dim=64,
                 student_temperature=0.1, teacher_temperature=0.04, center_momentum=0.9,
                 warmup_teacher_temperature=None, teacher_warmup_steps=0,
                 base_momentum=0.996, total_steps=1000, num_local=2, local_zoom=(-0.7, -0.4),
                 global_views=None, local_views=None, image_shape=None, seed=None, **kwargs):
        super().__init__(encoder, image_shape=image_shape, **kwargs)
        self.out_dim, self.hidden_dim = int(out_dim), int(hidden_dim)
        self.bottleneck_dim = int(bottleneck_dim)
        self.student_temperature = float(student_temperature)
        self.teacher_temperature = float(teacher_temperature)
        self.warmup_teacher_temperature = float(
            teacher_temperature if warmup_teacher_temperature is None else warmup_teacher_temperature)
        self.teacher_warmup_steps = int(teacher_warmup_steps)
        if min(self.student_temperature, self.teacher_temperature, self.warmup_teacher_temperature) <= 0:
            raise ValueError(f"student_temperature={student_temperature!r}, teacher_temperature="
                             f"{teacher_temperature!r}, warmup_teacher_temperature="
                             f"{warmup_teacher_temperature!r}: expected positive floats")
        if self.teacher_warmup_steps < 0:
            raise ValueError(f"teacher_warmup_steps={teacher_warmup_steps!r}: expected an integer >= 0")
        self.center_momentum = float(center_momentum)
        self.base_momentum = float(base_momentum)
        self.total_steps = int(total_steps)
        self.num_local = int(num_local)
        self.local_zoom = tuple(float(v) for v in local_zoom)
        self.seed = seed
        if self.num_local < 0:
            raise ValueError(f"num_local={num_local!r}: expected an integer >= 0")
        base = 0 if seed is None else int(seed)
        self.global_views = (global_views if global_views is not None
                             else LensViews(seed=None if seed is None else base + 1))
        self.local_views = (local_views if local_views is not None
                            else LensViews(zoom=self.local_zoom,
                                           seed=None if seed is None else base + 2))
        dim = feature_dim(encoder, self.image_shape)
        self.head = dino_projection_head(dim, self.out_dim, self.hidden_dim, self.bottleneck_dim)
        self.teacher_encoder = clone_network(encoder, name="teacher_encoder")
        self.teacher_head = clone_network(self.head, name="teacher_head")
        self.center = self.add_weight(shape=(self.out_dim,), initializer="zeros",
                                      trainable=False, name="center")
        self.build((None,) + tuple(self.image_shape))  # every part exists: mark built

    def momentum(self):
        """Current teacher EMA momentum (float32 scalar tensor)."""
        return cosine_momentum(self.step, self.total_steps, self.base_momentum, 1.0)

    def teacher_temperature_now(self):
        """Current teacher temperature (float32 scalar tensor): linear warm-up, then constant."""
        return linear_ramp(self.step, self.teacher_warmup_steps,
                           self.warmup_teacher_temperature, self.teacher_temperature)

    def ssl_loss(self, images):
        globals_ = [self.global_views(images) for _ in range(2)]
        locals_ = [self.local_views(images) for _ in range(self.num_local)]
        student = [self.head(self.encoder(v, training=True), training=True)
                   for v in globals_ + locals_]
        teacher = [ops.stop_gradient(self.teacher_head(self.teacher_encoder(v)))
                   for v in globals_]
        loss = dino_loss(student, teacher, self.center, self.student_temperature,
                         self.teacher_temperature_now())
        batch_center = ops.mean(ops.concatenate(teacher, axis=0), axis=0)
        self.center.assign(self.center_momentum * self.center
                           + (1.0 - self.center_momentum) * batch_center)
        m = self.momentum()
        ema_update(self.teacher_encoder, self.encoder, m)
        ema_update(self.teacher_head, self.head, m)
        return loss

    def get_config(self):
        return {**super().get_config(), "out_dim": self.out_dim, "hidden_dim": self.hidden_dim,
                "bottleneck_dim": self.bottleneck_dim,
                "student_temperature": self.student_temperature,
                "teacher_temperature": self.teacher_temperature,
                "warmup_teacher_temperature": self.warmup_teacher_temperature,
                "teacher_warmup_steps": self.teacher_warmup_steps,
                "center_momentum": self.center_momentum, "base_momentum": self.base_momentum,
                "total_steps": self.total_steps, "num_local": self.num_local,
                "local_zoom": list(self.local_zoom), "seed": self.seed}
