import pytest


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    """A data_dir holding deeplense/model_ii_tiny and deeplense/model_ii_sr16_tiny, built once."""
    import tensorflow_datasets as tfds

    import lensml  # noqa: F401

    data_dir = tmp_path_factory.mktemp("tfds")
    for name in ("deeplense/model_ii_tiny", "deeplense/model_ii_sr16_tiny"):
        tfds.builder(name, data_dir=data_dir).download_and_prepare()
    return data_dir
