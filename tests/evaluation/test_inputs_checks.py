"""Folder inputs: unknown class folders and non-finite images are errors that name them."""

import numpy as np
import pytest

from lensml.evaluation import load_npy_folder


def _folder(tmp_path, names):
    for name in names:
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "a.npy", np.ones((8, 8), "float32"))
    return tmp_path


def test_unknown_class_folder_is_an_error(tmp_path):
    root = _folder(tmp_path, ["no_sub", "cdm", "vortex_typo"])
    with pytest.raises(ValueError, match="vortex_typo"):
        load_npy_folder(root)


def test_nan_image_is_named(tmp_path):
    root = _folder(tmp_path, ["no_sub", "cdm", "axion"])
    bad = np.ones((8, 8), "float32")
    bad[2, 2] = np.nan
    np.save(root / "cdm" / "b.npy", bad)
    with pytest.raises(ValueError, match="NaN or inf.*b.npy"):
        load_npy_folder(root)


def test_normalize_refuses_nan_pixels():
    import tensorflow as tf

    from lensml.data import normalize

    x = np.ones((1, 4, 4, 1), "float32")
    x[0, 1, 1, 0] = np.nan
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or inf"):
        normalize(x)
