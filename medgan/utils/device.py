"""The one device resolver: ``"auto"`` and explicit device names, checked against what is present."""
from __future__ import annotations

import torch

from medgan.errors import ConfigError


def resolve_device(device: str | torch.device, local_rank: int = 0) -> torch.device:
    """``"auto"`` -> ``cuda:<local_rank>`` when CUDA is available, else CPU; anything else as given (checked).

    Args:
        device: "auto", "cpu", "cuda", "cuda:1" ... or a :class:`torch.device`.
        local_rank: the CUDA device ``"auto"`` picks (a torchrun process's LOCAL_RANK).
    """
    if str(device) == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"unknown device {device!r} ({exc})", "use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available", "use --device auto or cpu")
    return dev
