"""The benchmark's arms as values: what each classifier trains on, and the one place arm names are made.

An arm is a frozen :class:`Arm` (model, kind, ratio, real_fraction). Fold records and ``results.json``
key arms by :func:`arm_name`; :func:`parse_arm` reads such a name back (also from records saved before
arms were typed), so no module builds or re-parses names by hand.

Kinds (a stable vocabulary, recorded per arm in ``results.json``):

- ``baseline``: real inner-training images + classic augmentation;
- ``control:duplicate``: the real images plus ``ratio`` x (real count) duplicated real images per class
  (the same image count as ``synthetic:mix`` at that ratio);
- ``control:class-weight``: real images, cross-entropy weighted by inverse class frequency;
- ``control:strong-aug``: real images, stronger geometric + intensity augmentation and MixUp;
- ``synthetic:mix``: the real images plus ``ratio`` x (real count) synthetic images per class;
- ``synthetic:balance``: the real images plus synthetic images of the smaller classes up to the largest;
- ``synthetic:pretrain``: trained on synthetic images only, then fine-tuned on the real images;
- ``synthetic:selected``: the synthetic use (or baseline) that scored best on inner validation;
- ``synthetic:only``: synthetic images only, ``ratio`` x (real count) per class (train on synthetic,
  test on real).

``real_fraction`` is the fraction of the real inner-training patients an arm's real images come from
(learning-curve scenario); a name carries it only when it differs from 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from medgan.errors import DataError

BASELINE = "baseline"
DUPLICATE = "control:duplicate"
CLASS_WEIGHT = "control:class-weight"
STRONG_AUG = "control:strong-aug"
MIX = "synthetic:mix"
BALANCE = "synthetic:balance"
PRETRAIN = "synthetic:pretrain"
SELECTED = "synthetic:selected"
ONLY = "synthetic:only"
CONTROL_KINDS = (DUPLICATE, CLASS_WEIGHT, STRONG_AUG)
ARM_KINDS = (BASELINE, *CONTROL_KINDS, MIX, BALANCE, PRETRAIN, SELECTED, ONLY)
#: ``--controls`` / ``controls`` names -> kinds; ``--uses`` / ``synthetic_uses`` names -> kinds.
CONTROLS = {"duplicate": DUPLICATE, "class-weight": CLASS_WEIGHT, "strong-aug": STRONG_AUG}
USES = {"mix": MIX, "balance": BALANCE, "pretrain": PRETRAIN}
#: Kinds without a GAN model, and those whose name carries a ratio.
MODEL_FREE = (BASELINE, *CONTROL_KINDS)
RATIO_KINDS = (MIX, DUPLICATE)

_SUFFIX = {SELECTED: " selected", ONLY: " synthetic only", BALANCE: " balance", PRETRAIN: " pretrain"}
_CONTROL_NAMES = {CLASS_WEIGHT: "class-weight", STRONG_AUG: "strong-aug"}


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
        if (self.model is None) != (self.kind in MODEL_FREE):
            raise ValueError(f"a {self.kind} arm {'needs' if self.model is None else 'takes no'} model")
        if self.kind in RATIO_KINDS and self.ratio is None:
            raise ValueError(f"a {self.kind} arm needs a ratio")

    @property
    def name(self) -> str:
        """The arm's name in fold records and reports (:func:`arm_name`)."""
        return arm_name(self)

    @property
    def uses_real(self) -> bool:
        """Whether the arm trains on real images (every kind but ``synthetic:only``)."""
        return self.kind != ONLY

    @property
    def is_control(self) -> bool:
        """Whether the arm is a non-GAN control (``control:*``)."""
        return self.kind in CONTROL_KINDS

    def at_fraction(self, real_fraction: float) -> "Arm":
        """The same arm on another real fraction."""
        return Arm(self.model, self.kind, self.ratio, float(real_fraction))


def arm_name(arm: Arm) -> str:
    """``baseline``, ``duplicate ratio 1``, ``class-weight``, ``strong-aug``, ``cgan ratio 0.5``,
    ``cgan balance``, ``cgan pretrain``, ``cgan selected``, ``cgan synthetic only`` (+ `` real 0.25`` when
    ``real_fraction`` is not 1)."""
    if arm.kind == BASELINE:
        name = "baseline"
    elif arm.kind in _CONTROL_NAMES:
        name = _CONTROL_NAMES[arm.kind]
    elif arm.kind in RATIO_KINDS:
        name = f"{arm.model if arm.kind == MIX else 'duplicate'} ratio {arm.ratio:g}"
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
    for kind, text in _CONTROL_NAMES.items():
        if base == text:
            return Arm(None, kind, None, fraction)
    for kind, suffix in _SUFFIX.items():
        if base.endswith(suffix) and len(base) > len(suffix):
            return Arm(base[: -len(suffix)], kind, None, fraction)
    model, sep, ratio = base.rpartition(" ratio ")
    if sep and model:
        try:
            return (Arm(None, DUPLICATE, float(ratio), fraction) if model == "duplicate"
                    else Arm(model, MIX, float(ratio), fraction))
        except ValueError:
            pass
    raise DataError(f"{name!r} is not a benchmark arm name",
                    "arm names look like 'baseline', 'cgan ratio 0.5', 'cgan selected', 'cgan synthetic only'")


def use_of_ratio(ratio: float) -> str:
    """The selection candidate a mix ratio stands for: ``baseline`` at 0, else ``mix <r>``."""
    return "baseline" if ratio == 0 else f"mix {ratio:g}"


def ratio_of_use(use: str) -> float | None:
    """The mix ratio of a selection candidate: 0 for ``baseline``, r for ``mix <r>``, None for the others."""
    if use == "baseline":
        return 0.0
    return float(use[4:]) if use.startswith("mix ") else None


def candidate_arm(model: str, use: str, real_fraction: float = 1.0) -> Arm:
    """The arm behind a selection candidate of ``model``'s selected arm (``baseline``, ``mix <r>``,
    ``balance``, ``pretrain``); DataError for another name."""
    ratio = ratio_of_use(use)
    if ratio == 0:
        return Arm(None, BASELINE, 0.0, real_fraction)
    if ratio is not None:
        return Arm(model, MIX, ratio, real_fraction)
    if use not in ("balance", "pretrain"):
        raise DataError(f"unknown selection candidate {use!r} in a fold record",
                        "the folder was written by another medgan version: rerun its benchmark")
    return Arm(model, USES[use], None, real_fraction)


def control_arms(controls: Sequence[str], ratios: Sequence[float]) -> list[Arm]:
    """The control arms of one real fraction: duplicates at every synthetic ratio, then the others."""
    arms = [Arm(None, DUPLICATE, float(r)) for r in ratios] if "duplicate" in controls else []
    return arms + [Arm(None, CONTROLS[c]) for c in controls if c != "duplicate"]


def synthetic_arms(model: str, uses: Sequence[str], ratios: Sequence[float], tstr: bool, tstr_ratio: float) -> list[Arm]:
    """One model's arms of one real fraction: its mixes, balance, pretrain, synthetic only, selected."""
    arms = [Arm(model, MIX, float(r)) for r in ratios] if "mix" in uses else []
    arms += [Arm(model, USES[u]) for u in ("balance", "pretrain") if u in uses]
    arms += [Arm(model, ONLY, float(tstr_ratio))] if tstr else []
    return arms + [Arm(model, SELECTED)]


def planned_arms(models: Sequence[str], ratios: Sequence[float], tstr: bool, tstr_ratio: float,
                 controls: Sequence[str] = (), uses: Sequence[str] = ("mix",),
                 fractions: Sequence[float] = (1.0,)) -> list[Arm]:
    """Every arm of a run in report order: per real fraction (largest first) the baseline, the controls, then
    per model its synthetic arms and the selected one."""
    arms: list[Arm] = []
    for fraction in sorted({float(f) for f in fractions}, reverse=True):
        one = [Arm(None, BASELINE, 0.0)] + control_arms(controls, ratios)
        for m in models:
            one += synthetic_arms(m, uses, ratios, tstr, tstr_ratio)
        arms += [a.at_fraction(fraction) for a in one]
    return arms


def arm_fields(name: str, scenario: str = "full") -> dict[str, Any]:
    """The typed fields ``results.json`` records per arm: ``{"kind", "real_fraction", "scenario"}``."""
    arm = parse_arm(name)
    return {"kind": arm.kind, "real_fraction": arm.real_fraction, "scenario": scenario}
