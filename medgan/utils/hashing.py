"""Content fingerprints: prove which data a model saw, detect tampered files."""
from __future__ import annotations

import hashlib
import os
from typing import Iterable

import numpy as np


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint_array(array: np.ndarray) -> str:
    """Short (16 hex) SHA-256 fingerprint of an array's dtype, shape and bytes."""
    arr = np.ascontiguousarray(array)
    h = hashlib.sha256()
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()[:16]


def fingerprint_tensors(tensors: Iterable) -> str:
    """Short fingerprint of a sequence of tensors/arrays (e.g. images then labels)."""
    h = hashlib.sha256()
    for t in tensors:
        arr = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
        h.update(fingerprint_array(arr).encode())
    return h.hexdigest()[:16]
