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


class _RunsCode:
    """A pickle that calls a function on load: what a crafted data file would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_crafted_pickle_in_a_data_folder_runs_nothing(tmp_path):
    root = _folder(tmp_path, ["no_sub", "cdm", "axion"])
    marker = tmp_path / "pwned"
    crafted = np.empty(2, dtype=object)
    crafted[0], crafted[1] = np.ones((8, 8), "float32"), _RunsCode(marker)
    np.save(root / "axion" / "b.npy", crafted, allow_pickle=True)
    with pytest.raises(ValueError, match=r"b\.npy.*(refused to load posix\.system|does not run code)"):
        load_npy_folder(root)
    assert not marker.exists()


def test_legacy_object_array_axion_files_still_load(tmp_path):
    # the public DeepLense simulator's axion files: np.save of array([image, m_a], dtype=object)
    root = _folder(tmp_path, ["no_sub", "cdm", "axion"])
    legacy = np.empty(2, dtype=object)
    legacy[0], legacy[1] = np.full((8, 8), 2.0, "float32"), np.float64(3e-23)
    np.save(root / "axion" / "b.npy", legacy, allow_pickle=True)
    plain_float = np.empty(2, dtype=object)
    plain_float[0], plain_float[1] = np.full((8, 8), 2.0, "float32"), 1e-23
    np.save(root / "axion" / "c.npy", plain_float, allow_pickle=True)
    data = load_npy_folder(root, normalization="none")
    assert data["images"].shape == (5, 8, 8, 1)
    np.testing.assert_allclose(data["log10_axion_mass"][[3, 4]], [np.log10(3e-23), -23.0])
    assert np.isnan(data["log10_axion_mass"][2])  # a.npy of axion: a plain array, no mass
    # an object array holding a string, not a number, is refused
    odd = np.empty(2, dtype=object)
    odd[0], odd[1] = np.ones((8, 8)), "3e-23"
    np.save(root / "axion" / "d.npy", odd, allow_pickle=True)
    with pytest.raises(ValueError, match="d.npy"):
        load_npy_folder(root)


def test_truncated_npy_is_named(tmp_path):
    root = _folder(tmp_path, ["no_sub", "cdm", "axion"])
    raw = (root / "cdm" / "a.npy").read_bytes()
    (root / "cdm" / "a.npy").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"cdm/a\.npy.*truncated"):
        load_npy_folder(root)
