"""Seeds derived from integers (numpy's SeedSequence): no global RNG anywhere in the library.

Two derivations exist because committed runs depend on both: :func:`derive_seed` names every synthetic
sample (``(seed, class, index)``, recorded in its meta and reproducible by users), and
:func:`derive_training_seed` seeds the trainer's weight, batch, noise and augmentation streams.
Unifying them would silently change every exported sample and every trained GAN.
"""
from __future__ import annotations

import numpy as np


def derive_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed from integers (e.g. ``(seed, class, index)``)."""
    words = np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(2, dtype=np.uint32)
    return int((int(words[0]) << 31) ^ int(words[1])) & ((1 << 63) - 1)


def derive_training_seed(*keys: int) -> int:
    """A 63-bit seed for one of the trainer's streams from integers (seed, rank, purpose, step)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))
