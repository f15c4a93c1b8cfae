"""Fixtures for the pipeline-script tests: load a script from ``pipelines/`` as a module."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.fixture
def load_pipeline() -> Callable[[str], ModuleType]:
    """``load_pipeline("train_synthesize_evaluate")`` -> the module of ``pipelines/train_synthesize_evaluate.py``."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, PIPELINES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
