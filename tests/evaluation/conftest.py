"""The real training / held-out pair every evaluation test compares synthetic images with."""
import pytest

from evaluation_fakes import real_pair


@pytest.fixture(scope="module")
def real():
    return real_pair()
