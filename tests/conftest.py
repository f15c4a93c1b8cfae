"""Shared pytest fixtures for the whole suite."""
from __future__ import annotations

from pathlib import Path

import pytest

#: ../shared/data relative to the repository root (real CT for optional `realdata` tests).
SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skips the test (with a reason) where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA
