"""An infinite stream of freshly simulated lenses for ``model.fit`` (TF and JAX backends).

Each batch is drawn on the fly by the batched simulator (lensml.simulation.batched),
compiled for the backend (``jax.jit`` on JAX, ``tf.function(jit_compile=True)`` on
TensorFlow). Batch ``i`` of epoch ``e`` is a function of (seed, e, i) only, and each of its
lenses of (seed, e, i, slot): the processes of a multi-process job draw disjoint parts of
the same global batches.
"""

from __future__ import annotations

import copy
import functools

import keras
import numpy as np

from lensml.data.normalization import check_normalization, normalize_ops
from lensml.simulation.families import get_family
from lensml.simulation.priors import label_index, sample_parameters
from lensml.simulation.targets import target_names

#: What a stream can target (``lensml.simulation.targets``), None: images only.
STREAM_TARGETS = target_names(stream=True) + (None,)


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
    within each batch and within every contiguous part of it (counts differ by at most one):
    slot s holds the class at position s mod C of a random order of the C classes. In a job
    of several processes each draws its part of every batch (``part``).

    Args:
      family: family name or ``Family``.
      batch_size: images per batch (> 0).
      seed: global seed (>= 0).
      steps_per_epoch: batches per epoch; None: infinite (pass ``steps_per_epoch`` to fit).
      normalization: "minmax" (per image), "standardize" or None.
      noise: add the instrument's noise.
      target: one of STREAM_TARGETS ("image": the normalised noise-free image; None: images only).
      classes: the classes to draw (default: all of the family's, ``Family.class_names``, or for
        a class-specific target the classes that carry it, e.g. ("axion",) for the axion mass).
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
        carriers = None if target is None else self.family.target(target, stream=True).carried_by
        names = self.family.class_names
        if classes is None:  # every class, or those that carry the target
            classes = names if carriers is None else carriers
        self.classes = tuple(names[label_index(c, names)] for c in classes)
        if not self.classes:
            raise ValueError("classes must name at least one class")
        if carriers is not None and not set(self.classes) <= set(carriers):
            raise ValueError(f"classes: got {list(self.classes)}, but target={target!r} is carried by "
                             f"{list(carriers)} only")
        self.batch_size, self.seed, self.steps_per_epoch = batch_size, seed, steps_per_epoch
        self.normalization = check_normalization(normalization)
        self.noise, self.target = noise, target
        self.simulator, self._render, self._host_poisson = _compiled_renderer(
            self.family, supersampling, bool(noise), self.normalization, keras.backend.backend(),
            target == "image")
        self.epoch = 0
        self._slots = (0, batch_size)  # the part of every global batch this stream draws (``part``)
        self._global_batches = False

    @property
    def num_batches(self):
        return self.steps_per_epoch

    def on_epoch_end(self):
        self.epoch += 1

    #: ``model.fit``'s steps_per_epoch: none, the stream is ``steps_per_epoch`` batches long
    #: and fit starts each epoch's batches afresh
    fit_steps_per_epoch = None

    def fit_callbacks(self) -> list:
        """What ``model.fit`` needs beside the stream: its epoch follows fit's (``StreamEpoch``)."""
        return [StreamEpoch(self)]

    def part(self, index: int, count: int, *, global_batches: bool = False) -> "SimulatedStream":
        """This stream as process ``index`` of a ``count``-process job draws it: the lenses in
        slots ``[index B / count, (index + 1) B / count)`` of every global batch of B lenses,
        the very lenses a one-process stream has there (a lens is a function of (seed, epoch,
        batch, slot) only), so the processes draw different lenses and together the
        one-process batch. Each process renders only its own lenses.

        global_batches: batches of the global size B with the other processes' slots zero
        (TensorFlow's multi-worker strategy takes each worker's part of a global batch
        itself); False: the process's part only (JAX: ``keras.distribution`` assembles the
        global batch from the processes' parts).
        """
        if not isinstance(count, int) or count <= 0 or not isinstance(index, int) or not 0 <= index < count:
            raise ValueError(f"index, count: expected 0 <= index < count, got index={index!r}, count={count!r}")
        if self.batch_size % count:
            raise ValueError(f"batch_size: got {self.batch_size}, expected a multiple of the {count} processes "
                             "that each draw an equal part of every global batch")
        other = copy.copy(self)
        size = self.batch_size // count
        other._slots = (index * size, (index + 1) * size)
        other._global_batches = bool(global_batches)
        return other

    def __getitem__(self, index):
        return self.batch(index, self.epoch)

    def batch(self, index: int, epoch: int = 0):
        """Batch ``index`` of ``epoch`` (this process's part, see ``part``): (images, targets)
        numpy, or images (target None)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, int(epoch), int(index)]))
        k, first, last = len(self.classes), *self._slots
        # Slot s of the global batch holds the class at position s % k of a random order of
        # the classes: balanced within the batch and within every contiguous part of it. Every
        # class's parameters for the whole global batch are drawn (cheap, on the host; +1 so
        # every window below fits); each process renders only a window of `window` lenses per
        # class around its slots, one compiled shape whatever the window's position.
        position = np.argsort(rng.permutation(k))  # class c sits at slots s with s % k == position[c]
        drawn = -(-self.batch_size // k) + 1
        window = -(-(last - first) // k)
        draw_noise = self.noise and self.simulator.draws_noise
        params, normals, slots, lens_rngs = [], [], [], []
        for c, r in enumerate(position.tolist()):  # the classes in their own order: one compiled signature
            p = sample_parameters(self.family, self.classes[c], rng, drawn)
            start = -(-(first - r) // k)  # the class's first lens at or after slot `first`
            params.append({key: value[start:start + window] for key, value in p.items()})
            slots.append(np.arange(start, start + window) * k + r)
            # A lens's noise comes from its own generator, keyed by its slot, so it is the same
            # whichever process draws it (one generator per lens, the draws vectorised).
            lens_rngs.append([np.random.default_rng(np.random.SeedSequence([self.seed, int(epoch), int(index), int(s), 1]))
                              for s in slots[-1]] if draw_noise or self._host_poisson else None)
            n = self.family.instrument.num_pix
            normals.append(np.stack([g.standard_normal((n, n, 1), dtype=np.float32) for g in lens_rngs[-1]])
                           if draw_noise else None)
        rendered = self._render([self.simulator.select(p) for p in params], normals)
        positions, images, models, meta = [], [], [], []
        for c, (image, model) in enumerate(rendered):
            if self._host_poisson:
                mean = keras.ops.convert_to_numpy(image)
                image = normalize_ops(np.stack([self.simulator.poisson_counts(m[None], g)[0]
                                                for m, g in zip(mean, lens_rngs[c])]), self.normalization)
            mine = (slots[c] >= first) & (slots[c] < last)
            positions.append(slots[c][mine] - first)
            images.append(keras.ops.convert_to_numpy(image)[mine])
            models.append(keras.ops.convert_to_numpy(model)[mine])
            meta.append({key: value[mine] for key, value in params[c].items()})
        where = np.concatenate(positions)
        rows = slice(first, last) if self._global_batches else slice(0, last - first)
        size = self.batch_size if self._global_batches else last - first

        def place(parts):  # this process's lenses in slot order (the others' slots zero)
            values = np.concatenate(parts)
            out = np.zeros((size,) + values.shape[1:], values.dtype)
            out[rows][where] = values
            return out

        x = place(images)
        if self.target is None:
            return x
        if self.target == "image":
            return x, place(models)
        cat = lambda key: place([m[key] for m in meta])  # noqa: E731
        if self.target == "source_center":
            return x, np.stack([cat("source_x"), cat("source_y")], axis=-1).astype(np.float32)
        if self.target == "label":
            return x, cat("label")
        return x, cat(self.target).astype(np.float32)


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
