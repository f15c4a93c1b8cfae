"""Tensor helpers shared by the training loops."""
from __future__ import annotations

import torch


def plain_tensor(x: torch.Tensor) -> torch.Tensor:
    """``x`` as a plain ``torch.Tensor`` (same storage, no copy), e.g. a MONAI MetaTensor without its metadata.

    Training loops call it once on their data: MetaTensor's per-operation metadata handling made a CPU
    classifier step ~1.5x and a GAN step ~1.1x slower (2-core AMD EPYC, 1 thread); the numbers are unchanged.
    """
    return x if type(x) is torch.Tensor else x.as_subclass(torch.Tensor)
