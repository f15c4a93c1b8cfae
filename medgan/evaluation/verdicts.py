"""Plain-language warnings for the failures a quality table shows but a reader may miss.

A table of twelve figures per class hides the three failures that make a class's synthetic images
useless for augmentation: the GAN copies its few training images (memorisation), covers almost none
of the real variety (collapse), or draws images that look like another class (class leak). Each
warning names the class, the figure, the rule and what to do about it.
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["NEAR_COPY_LIMIT", "RECALL_FLOOR", "LEAK_FLOOR", "quality_warnings", "warning_markdown"]

#: Share of near-copies above which a class counts as memorised (an honest generator makes ~5 %).
NEAR_COPY_LIMIT = 0.5
#: Recall below which a class counts as collapsed (it covers under a fifth of the real images).
RECALL_FLOOR = 0.2
#: A class leaks when more than twice the real misclassification, and at least this share, of its
#: synthetic images are called another class (the floor keeps a 0 % real rate on a tiny test set from
#: flagging a single image).
LEAK_FLOOR = 0.1


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _memorised(name: str, g: dict[str, Any]) -> str | None:
    share = (g.get("memorization") or {}).get("flagged_fraction")
    if not _finite(share) or share <= NEAR_COPY_LIMIT:
        return None
    return (f"{name}: {100 * share:.0f} % of the synthetic images are near-copies of training images (an honest "
            f"generator makes about 5 %): the GAN memorised this class's training images, so its synthetic "
            f"images add little beyond duplicating them. Drop near-copies (`--synthetic-filter proximity`, "
            f"`medgan synthesize --drop-near-copies THRESHOLD --data SPEC`) or train this class with more images or fewer steps.")


def _collapsed(name: str, g: dict[str, Any]) -> str | None:
    recall = (g.get("fidelity") or {}).get("recall")
    if not _finite(recall) or recall >= RECALL_FLOOR:
        return None
    return (f"{name}: recall {recall:.2f}: the synthetic images cover almost none of the real images' variety "
            f"(mode collapse); more steps or a stronger diversity term (`mode_seeking`) usually help.")


def _leaking(name: str, g: dict[str, Any]) -> str | None:
    leak, real = g.get("class_leak"), g.get("real_misclass")
    if not (_finite(leak) and _finite(real)) or leak <= max(2 * real, LEAK_FLOOR):
        return None
    return (f"{name}: {100 * leak:.0f} % of the synthetic images are called another class by a classifier "
            f"trained on the real images, which misclassifies {100 * real:.0f} % of real held-out images of "
            f"this class: the class condition is weak, and these images teach the wrong label "
            f"(`--synthetic-filter confidence` keeps only images that carry their class).")


def quality_warnings(result: dict[str, Any]) -> list[str]:
    """Warnings, one per failing class and failure, from an ``evaluate_quality`` result (per class only)."""
    out = []
    for name, g in (result.get("per_class") or {}).items():
        out += [w for check in (_memorised, _collapsed, _leaking) if (w := check(name, g))]
    return out


def warning_markdown(warnings: list[str]) -> list[str]:
    """Markdown lines for a report: one block quote per warning."""
    return [f"> **Warning:** {w}\n" for w in warnings]
