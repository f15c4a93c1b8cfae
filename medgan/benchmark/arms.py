"""The benchmark's arms as values: what each classifier trains on, and the one place arm names are made.

An arm is a frozen :class:`Arm` (model, kind, ratio, real_fraction). Fold records and ``results.json``
key arms by :func:`arm_name`; :func:`parse_arm` reads such a name back (also from records saved before
arms were typed), so no module builds or re-parses names by hand.

Kinds (a stable vocabulary, recorded per arm in ``results.json``):

- ``baseline``: real inner-training images + classic augmentation;
- ``synthetic:mix``: the real images plus ``ratio`` x (real count) synthetic images per class;
- ``synthetic:selected``: the mix (or baseline) whose ratio scored best on inner validation;
- ``synthetic:only``: synthetic images only, ``ratio`` x (real count) per class (train on synthetic,
  test on real).

``real_fraction`` is the fraction of the real inner-training images an arm's counts are based on
(1.0 for every arm today; a name carries it only when it differs from 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from medgan.errors import DataError

BASELINE = "baseline"
MIX = "synthetic:mix"
SELECTED = "synthetic:selected"
ONLY = "synthetic:only"
ARM_KINDS = (BASELINE, MIX, SELECTED, ONLY)

_SUFFIX = {SELECTED: " selected", ONLY: " synthetic only"}


@dataclass(frozen=True)
class Arm:
    """One arm of the benchmark.

    Args:
        model: GAN model name (None for the baseline).
        kind: one of :data:`ARM_KINDS`.
        ratio: synthetic:real per class (mix and synthetic-only arms; None where the name does not fix it).
        real_fraction: fraction of the real inner-training images used (1.0).
    """

    model: str | None
    kind: str
    ratio: float | None = None
    real_fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ARM_KINDS:
            raise ValueError(f"unknown arm kind {self.kind!r}; use one of {ARM_KINDS}")
        if (self.model is None) != (self.kind == BASELINE):
            raise ValueError(f"a {self.kind} arm {'needs' if self.model is None else 'takes no'} model")
        if self.kind == MIX and self.ratio is None:
            raise ValueError("a synthetic:mix arm needs a ratio")

    @property
    def name(self) -> str:
        """The arm's name in fold records and reports (:func:`arm_name`)."""
        return arm_name(self)

    @property
    def uses_real(self) -> bool:
        """Whether the arm trains on real images (every kind but ``synthetic:only``)."""
        return self.kind != ONLY


def arm_name(arm: Arm) -> str:
    """``baseline``, ``cgan ratio 0.5``, ``cgan selected``, ``cgan synthetic only`` (+ `` real 0.5``
    when ``real_fraction`` is not 1)."""
    if arm.kind == BASELINE:
        name = "baseline"
    elif arm.kind == MIX:
        name = f"{arm.model} ratio {arm.ratio:g}"
    else:
        name = f"{arm.model}{_SUFFIX[arm.kind]}"
    return name if arm.real_fraction == 1.0 else f"{name} real {arm.real_fraction:g}"


def parse_arm(name: str) -> Arm:
    """The :class:`Arm` a name from :func:`arm_name` stands for; raises :class:`DataError` for other text.

    The ratio of ``selected`` and ``synthetic only`` arms is not in their name (None here).
    """
    base, fraction = name, 1.0
    head, sep, tail = name.rpartition(" real ")
    if sep:
        try:
            base, fraction = head, float(tail)
        except ValueError:
            pass
    if base == "baseline":
        return Arm(None, BASELINE, 0.0, fraction)
    for kind, suffix in _SUFFIX.items():
        if base.endswith(suffix) and len(base) > len(suffix):
            return Arm(base[: -len(suffix)], kind, None, fraction)
    model, sep, ratio = base.rpartition(" ratio ")
    if sep and model:
        try:
            return Arm(model, MIX, float(ratio), fraction)
        except ValueError:
            pass
    raise DataError(f"{name!r} is not a benchmark arm name",
                    "arm names look like 'baseline', 'cgan ratio 0.5', 'cgan selected', 'cgan synthetic only'")


def planned_arms(models: Sequence[str], ratios: Sequence[float], tstr: bool, tstr_ratio: float) -> list[Arm]:
    """Every arm of a run in report order: baseline, then per model its mixes, synthetic only, selected."""
    arms = [Arm(None, BASELINE, 0.0)]
    for m in models:
        arms += [Arm(m, MIX, float(r)) for r in ratios]
        arms += [Arm(m, ONLY, float(tstr_ratio))] if tstr else []
        arms.append(Arm(m, SELECTED))
    return arms


def arm_fields(name: str) -> dict[str, Any]:
    """The typed fields ``results.json`` records per arm: ``{"kind": ..., "real_fraction": ...}``."""
    arm = parse_arm(name)
    return {"kind": arm.kind, "real_fraction": arm.real_fraction}
