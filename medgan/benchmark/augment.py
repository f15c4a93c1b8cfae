"""Classic augmentation for the benchmark classifier: MONAI random flips, rotation, zoom, shift, intensity.

Every arm (baseline, real + synthetic, synthetic only) trains through the same pipeline, so the only
difference between arms is which images enter it. Images are channel-first tensors in [-1, 1].
"""
from __future__ import annotations

import math

from monai.transforms import Compose, RandAffined, RandFlipd, RandScaleIntensityd, RandShiftIntensityd


def classic_augmentation(keys: str | list[str] = "image", strength: float = 1.0) -> Compose:
    """A MONAI ``Compose`` of the classic augmentations (the reference study's "classic" arm).

    Args:
        keys: image key(s) of the item dicts.
        strength: 0 disables every transform (each ``prob`` scales with it, capped at 1); 1 is the
            default: horizontal flip (p 0.5), affine (p 0.8: rotation +-15 degrees, zoom +-10 %,
            shift +-4 px), intensity scale and shift (+-10 %, p 0.5 each).

    Randomness only from the transforms' own ``R`` (seed it with ``set_random_state``).
    """
    p = lambda q: float(min(1.0, max(0.0, q * strength)))  # noqa: E731
    return Compose(
        [
            RandFlipd(keys, prob=p(0.5), spatial_axis=1),
            RandAffined(keys, prob=p(0.8), rotate_range=math.pi / 12, scale_range=0.1, translate_range=4,
                        padding_mode="border"),
            RandScaleIntensityd(keys, factors=0.1, prob=p(0.5)),
            RandShiftIntensityd(keys, offsets=0.1, prob=p(0.5)),
        ]
    )
