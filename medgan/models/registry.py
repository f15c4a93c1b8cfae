"""Build generators and discriminators by name from plain (JSON) keyword arguments."""
from __future__ import annotations

import inspect
import numbers
from typing import Any, Callable

from torch import nn

from medgan.errors import ConfigError
from medgan.models.conditional import ConditionalGenerator, ProjectionDiscriminator
from medgan.models.dcgan import PerClassDiscriminator, PerClassGenerator
from medgan.models.fastgan import FastGANDiscriminator, FastGANGenerator

#: model name -> generator class. Every generator has ``forward(z, y) -> (N, 1, S, S)`` in [-1, 1].
GENERATORS: dict[str, Callable[..., nn.Module]] = {"dcgan": PerClassGenerator, "cgan": ConditionalGenerator,
                                                   "fastgan": FastGANGenerator}
#: model name -> discriminator class. Every discriminator has ``forward(x, y) -> (N,)`` logits.
DISCRIMINATORS: dict[str, Callable[..., nn.Module]] = {"dcgan": PerClassDiscriminator, "cgan": ProjectionDiscriminator,
                                                       "fastgan": FastGANDiscriminator}
MODELS = tuple(GENERATORS)
#: Size arguments: each must be a positive integer.
SIZE_ARGS = ("num_classes", "latent_dim", "image_size", "ngf", "ndf", "in_channels", "out_channels")


def _check_sizes(model: str, what: str, arch: dict[str, Any]) -> None:
    for name in SIZE_ARGS:
        value = arch.get(name, 1)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ConfigError(f"{model} {what}: {name}={value!r} is not allowed: use a positive integer",
                              f"set {name} to an integer >= 1")


def _build(table: dict[str, Callable[..., nn.Module]], what: str, model: str, arch: dict[str, Any]) -> nn.Module:
    if model not in table:
        raise ConfigError(f"unknown model {model!r}", f"use one of: {', '.join(table)}")
    cls = table[model]
    params = inspect.signature(cls).parameters
    unknown = sorted(set(arch) - set(params))
    if unknown:
        raise ConfigError(f"{model} {what} got unknown argument(s) {unknown}",
                          f"allowed: {', '.join(p for p in params)}")
    missing = [p.name for p in params.values() if p.default is inspect.Parameter.empty and p.name not in arch]
    if missing:
        raise ConfigError(f"{model} {what} needs argument(s) {missing}", "pass them, e.g. num_classes=3")
    _check_sizes(model, what, arch)
    try:
        return cls(**arch)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot build the {model} {what}: {exc}",
                          f"check the architecture values ({', '.join(sorted(arch))})") from None


def build_generator(model: str, **arch: Any) -> nn.Module:
    """Build the generator of ``model`` ("dcgan": per-class DCGAN bank, "cgan": conditional-BN generator).

    Args:
        model: "dcgan", "cgan" or "fastgan".
        arch: constructor keywords (plain JSON values): num_classes, latent_dim, image_size, ngf, out_channels.
    """
    return _build(GENERATORS, "generator", model, arch)


def build_discriminator(model: str, **arch: Any) -> nn.Module:
    """Build the discriminator of ``model`` ("dcgan": per-class bank, "cgan": projection D).

    Args:
        model: "dcgan" or "cgan".
        arch: constructor keywords: num_classes, image_size, ndf, in_channels, norm, spectral_norm (+ ac_head for cgan).
    """
    return _build(DISCRIMINATORS, "discriminator", model, arch)
