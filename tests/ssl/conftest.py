"""Fixtures of the SSL tests."""

import pytest

from tests.ssl._helpers import blob_images


@pytest.fixture(scope="session")
def images():
    return blob_images()
