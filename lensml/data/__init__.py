"""lensml.data: tf.data pipelines from TFDS to ``model.fit`` and on-the-fly simulated streams.

- ``pipeline(name, split, ...)``: stored deeplense splits, normalised, augmented, batched.
- ``stratified_subset(labels, fraction, seed=None)``: the label-efficiency subset, the one rule
  every protocol trains on (``pipeline(..., fraction=f)`` applies it with ``take_stratified``).
- ``simulated_stream(family, batch_size=..., seed=...)``: an infinite stream of fresh lenses
  from the batched simulator (a ``keras.utils.PyDataset``).
"""

from lensml.data.augment import random_d4, random_noise
from lensml.data.normalization import NORMALIZATIONS, normalize
from lensml.data.pipeline import TARGETS, builder_name, dataset_family, load_split, pipeline, split_labels
from lensml.data.subset import stratified_subset, take_stratified

__all__ = ["pipeline", "load_split", "split_labels", "builder_name", "dataset_family", "TARGETS", "normalize",
           "NORMALIZATIONS", "random_d4", "random_noise", "stratified_subset", "take_stratified",
           "simulated_stream", "SimulatedStream", "StreamEpoch"]


def __getattr__(name):
    # The stream imports keras and the batched simulator: load them only when asked for.
    if name in ("simulated_stream", "SimulatedStream", "StreamEpoch"):
        from lensml.data import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'lensml.data' has no attribute {name!r}")

from lensml import _keras_objects  # noqa: E402

_keras_objects.register_if_keras_loaded(finishing=__name__)  # see lensml._keras_objects
