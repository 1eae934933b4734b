"""An infinite stream of freshly simulated lenses for ``model.fit`` (TF and JAX backends).

Each batch is drawn on the fly by the batched simulator (lensml.simulation.batched),
compiled for the backend (``jax.jit`` on JAX, ``tf.function(jit_compile=True)`` on
TensorFlow). Batch ``i`` of epoch ``e`` is a function of (seed, e, i) only.
"""

from __future__ import annotations

import functools

import keras
import numpy as np

from lensml.data.normalization import check_normalization, normalize_ops
from lensml.simulation.families import get_family
from lensml.simulation.priors import label_index, sample_parameters

STREAM_TARGETS = ("label", "log10_axion_mass", "theta_E", "source_center", "image", None)


def compile_for_backend(fn, *, jit_compile: bool = True):
    """``fn`` compiled by the current Keras backend's compiler (unchanged on others)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=jit_compile, autograph=False)
    return fn


@functools.lru_cache(maxsize=32)
def _compiled_renderer(family, supersampling, noise: bool, normalization: str, backend: str,
                       with_model: bool = False):
    # One simulator and one compiled function per configuration, shared by streams, so a
    # new stream (e.g. for validation) does not compile again.
    from lensml.simulation.batched import BatchedSimulator

    simulator = BatchedSimulator(family, supersampling)
    # Poisson counts are drawn on the host (keras.ops has no Poisson sampler), so such a
    # family's images leave the compiled function unnormalised.
    host_poisson = noise and simulator.family.image_recipe == "poisson_counts"

    def render(params_per_class, normals):
        # Every class of a batch in one compiled call (one call's overhead, not one per class).
        out = []
        for params, normal in zip(params_per_class, normals):
            image, model = simulator.simulate(params, normal if noise else None)
            image = image if host_poisson else normalize_ops(image, normalization)
            # the noise-free model is only normalised when it is the target
            out.append((image, normalize_ops(model, normalization) if with_model else image))
        return out

    return simulator, compile_for_backend(render), host_poisson


class SimulatedStream(keras.utils.PyDataset):
    """Batches (images (B, H, W, 1) float32, targets) of fresh lenses, forever (or
    ``steps_per_epoch`` batches per epoch, new lenses every epoch). Classes are balanced
    within each batch (counts differ by at most one), in random order.

    Args:
      family: family name or ``Family``.
      batch_size: images per batch (> 0).
      seed: global seed (>= 0).
      steps_per_epoch: batches per epoch; None: infinite (pass ``steps_per_epoch`` to fit).
      normalization: "minmax" (per image), "standardize" or None.
      noise: add the instrument's noise.
      target: one of STREAM_TARGETS ("image": the normalised noise-free image; None: images only).
      classes: the classes to draw (default: all of the family's, ``Family.class_names``; e.g.
        ("axion",) for axion-mass regression).
      supersampling: override of the family's supersampling.
      **kwargs: keras.utils.PyDataset options (workers, use_multiprocessing, max_queue_size).
    """

    def __init__(self, family, *, batch_size: int, seed: int = 0, steps_per_epoch: int | None = None,
                 normalization: str | None = "minmax", noise: bool = True, target: str | None = "label",
                 classes=None, supersampling: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.family = get_family(family)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if steps_per_epoch is not None and (not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0):
            raise ValueError(f"steps_per_epoch must be None or a positive int, got {steps_per_epoch!r}")
        if target not in STREAM_TARGETS:
            raise ValueError(f"target must be one of {STREAM_TARGETS}, got {target!r}")
        names = self.family.class_names
        self.classes = tuple(names[label_index(c, names)] for c in (names if classes is None else classes))
        if not self.classes:
            raise ValueError("classes must name at least one class")
        if target == "log10_axion_mass" and self.classes != ("axion",):
            raise ValueError("target='log10_axion_mass' needs classes=('axion',)")
        self.batch_size, self.seed, self.steps_per_epoch = batch_size, seed, steps_per_epoch
        self.normalization = check_normalization(normalization)
        self.noise, self.target = noise, target
        self.simulator, self._render, self._host_poisson = _compiled_renderer(
            self.family, supersampling, bool(noise), self.normalization, keras.backend.backend(),
            target == "image")
        self.epoch = 0

    @property
    def num_batches(self):
        return self.steps_per_epoch

    def on_epoch_end(self):
        self.epoch += 1

    def __getitem__(self, index):
        return self.batch(index, self.epoch)

    def batch(self, index: int, epoch: int = 0):
        """Batch ``index`` of ``epoch``: (images, targets) numpy, or images (target None)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, int(epoch), int(index)]))
        k = len(self.classes)
        # Every class renders the same fixed count (one compiled shape per class); the few
        # surplus images are dropped from randomly chosen classes to keep the batch balanced.
        per_class = -(-self.batch_size // k)
        drop = set(rng.choice(k, size=k * per_class - self.batch_size, replace=False).tolist())
        params, normals = [], []
        for name in self.classes:
            params.append(sample_parameters(self.family, name, rng, per_class))
            draw = self.noise and self.simulator.draws_noise
            normals.append(self.simulator.standard_normal(per_class, rng) if draw else None)
        rendered = self._render([self.simulator.select(p) for p in params], normals)
        images, models, meta = [], [], []
        for j, (image, model) in enumerate(rendered):
            if self._host_poisson:
                image = normalize_ops(self.simulator.poisson_counts(image, rng), self.normalization)
            keep = slice(0, per_class - (j in drop))
            images.append(keras.ops.convert_to_numpy(image)[keep])
            models.append(keras.ops.convert_to_numpy(model)[keep])
            meta.append({key: value[keep] for key, value in params[j].items()})
        order = rng.permutation(self.batch_size)
        x = np.concatenate(images)[order]
        cat = lambda key: np.concatenate([m[key] for m in meta])[order]  # noqa: E731
        if self.target is None:
            return x
        if self.target == "image":
            y = np.concatenate(models)[order]
        elif self.target == "source_center":
            y = np.stack([cat("source_x"), cat("source_y")], axis=-1).astype(np.float32)
        elif self.target == "label":
            y = cat("label")
        else:
            y = cat(self.target).astype(np.float32)
        return x, y


class StreamEpoch(keras.callbacks.Callback):
    """Keeps a ``SimulatedStream``'s epoch equal to ``fit``'s, so the lenses of epoch e are
    the same whether a run went straight through or resumed at e after a kill."""

    def __init__(self, stream: SimulatedStream):
        super().__init__()
        self.stream = stream

    def on_epoch_begin(self, epoch, logs=None):
        self.stream.epoch = int(epoch)


def simulated_stream(family, *, batch_size: int, seed: int = 0, **kwargs) -> SimulatedStream:
    """An infinite ``SimulatedStream`` of fresh lenses of ``family`` for ``model.fit``
    (see ``SimulatedStream`` for the options)."""
    return SimulatedStream(family, batch_size=batch_size, seed=seed, **kwargs)
