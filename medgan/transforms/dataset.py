"""A MONAI dataset of synthetic labelled images, and a helper that mixes it with a real dataset.

Item ``i`` of a :class:`SyntheticDataset` is deterministic: items are laid out class by class, and the
``j``-th item of class ``c`` is ``sampler.sample([c], [derive_seed(seed, c, j)])`` -- the same image as
``sampler.sample_class(c, n, seed)[j]``. Growing a class's count therefore only appends items, and the
dataset can be cached (``CacheDataset``-style) or regenerated anywhere.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from monai.data import Dataset, MetaTensor
from monai.transforms import apply_transform
from torch.utils.data import ConcatDataset

from medgan.errors import ConfigError, DataError
from medgan.utils.seeding import derive_seed

__all__ = ["SyntheticDataset", "mix_real_and_synthetic", "class_counts_of"]


def class_counts_of(source: Any, num_classes: int) -> np.ndarray:
    """Per-class counts of a real dataset: labels array/tensor, LoadedData/PreparedData, or dict items."""
    if hasattr(source, "labels") and not isinstance(source, (np.ndarray, torch.Tensor)):
        labels = source.labels
    elif isinstance(source, (np.ndarray, torch.Tensor)) or (isinstance(source, Sequence) and source
                                                            and not isinstance(source[0], Mapping)):
        labels = source
    else:
        try:
            labels = [int(torch.as_tensor(item["label"]).reshape(-1)[0]) for item in source]
        except (KeyError, TypeError, IndexError) as exc:
            raise DataError(f"cannot read labels from {type(source).__name__} ({exc!r})",
                            "pass the real labels explicitly (labels=...)") from None
    arr = np.asarray(torch.as_tensor(labels).cpu().numpy() if torch.is_tensor(labels) else labels).astype(np.int64).reshape(-1)
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise DataError(f"real labels span {arr.min()}..{arr.max()} but the generator has {num_classes} classes",
                        "use a generator trained on the same classes")
    return np.bincount(arr, minlength=num_classes)


class SyntheticDataset(Dataset):
    """Synthetic items ``{"image": MetaTensor (1, S, S) in [-1, 1], "label": int, "synthetic": True, "seed": int}``.

    Args:
        sampler: a :class:`medgan.synthesis.GeneratorSampler`.
        counts_per_class: ``{class name or index: n}`` or a list with one count per class.
        ratio_to: instead of counts: a real dataset (labels, LoadedData, PreparedData or dict items);
            class c gets ``round(ratio * n_real_c)`` items.
        ratio: see ``ratio_to``.
        seed: base seed; item ``j`` of class ``c`` uses ``derive_seed(seed, c, j)``.
        transform: MONAI transform applied to each item dict.
        keys: item keys to keep (default all four; e.g. ``("image", "label")`` to match real items).
        as_metatensor: return images as MetaTensor carrying the synthetic meta (else a plain tensor).
    """

    ITEM_KEYS = ("image", "label", "synthetic", "seed")

    def __init__(self, sampler: Any, counts_per_class: Mapping[Any, int] | Sequence[int] | None = None,
                 ratio_to: Any = None, ratio: float = 1.0, seed: int = 0, transform: Callable | None = None,
                 keys: Sequence[str] | None = None, as_metatensor: bool = True) -> None:
        self.sampler = sampler
        self.seed = int(seed)
        self.counts = self._resolve_counts(counts_per_class, ratio_to, ratio)
        self.keys = tuple(keys) if keys is not None else self.ITEM_KEYS
        bad = [k for k in self.keys if k not in self.ITEM_KEYS]
        if bad:
            raise ConfigError(f"unknown synthetic item keys {bad}", f"choose from {self.ITEM_KEYS}")
        self.as_metatensor = bool(as_metatensor)
        index = [(c, j) for c, n in enumerate(self.counts) for j in range(int(n))]
        super().__init__(data=index, transform=transform)

    def _resolve_counts(self, counts: Any, ratio_to: Any, ratio: float) -> list[int]:
        k = self.sampler.num_classes
        if (counts is None) == (ratio_to is None):
            raise ConfigError("SyntheticDataset needs exactly one of counts_per_class or ratio_to",
                              "e.g. counts_per_class={'cyst': 100} or ratio_to=real_labels, ratio=1.0")
        if ratio_to is not None:
            if not ratio >= 0:
                raise ConfigError(f"ratio must be >= 0, got {ratio}", "e.g. ratio=1.0 (as many synthetic as real)")
            return [int(round(float(ratio) * int(n))) for n in class_counts_of(ratio_to, k)]
        if isinstance(counts, Mapping):
            out = [0] * k
            for cls, n in counts.items():
                out[self.sampler.class_index(cls)] = int(n)
        else:
            out = [int(n) for n in counts]
            if len(out) != k:
                raise ConfigError(f"counts_per_class has {len(out)} entries, the generator has {k} classes",
                                  f"give one count per class {self.sampler.class_names}")
        if any(n < 0 for n in out):
            raise ConfigError(f"negative class count in {out}", "counts must be >= 0")
        return out

    def make_item(self, index: int) -> dict[str, Any]:
        """The untransformed item ``index`` (deterministic)."""
        c, j = self.data[index]
        s = derive_seed(self.seed, c, j)
        img = self.sampler.sample([c], [s])[0]
        if self.as_metatensor:
            img = MetaTensor(img, meta={"synthetic": True, "synthetic_class": c, "synthetic_seed": s,
                                        "synthetic_class_name": self.sampler.class_names[c],
                                        "generator_fingerprint": self.sampler.fingerprint})
        full = {"image": img, "label": c, "synthetic": True, "seed": s}
        return {k: full[k] for k in self.keys}

    def _transform(self, index: int) -> Any:
        item = self.make_item(index)
        return apply_transform(self.transform, item) if self.transform is not None else item

    @property
    def labels(self) -> np.ndarray:
        """Integer label of every item."""
        return np.asarray([c for c, _ in self.data], dtype=np.int64)

    def as_tensors(self, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """All items at once (batched, untransformed): images (N, 1, S, S) and labels (N,)."""
        labels = [c for c, _ in self.data]
        seeds = [derive_seed(self.seed, c, j) for c, j in self.data]
        return self.sampler.sample(labels, seeds, batch_size=batch_size), torch.as_tensor(labels, dtype=torch.long)


def mix_real_and_synthetic(real_dataset: Any, sampler: Any, ratio: float, labels: Any = None,
                           balance_classes: bool = False, seed: int = 0,
                           transform: Callable | None = None,
                           max_per_class: Sequence[int] | None = None) -> ConcatDataset:
    """``ConcatDataset([real_dataset, synthetic])`` with ``ratio`` synthetic items per real item, per class.

    Class c gets ``ceil(ratio * n_c)`` synthetic items. With ``balance_classes=True`` every class is
    first topped up to the largest class and ratio is applied to that size:
    ``ceil(ratio * n_max) + (n_max - n_c)``, so all classes end with the same total.
    Synthetic items carry the same keys as the real items (the first item is inspected; plain tensors
    stay plain tensors), so the default collate can batch them together; their provenance is available
    from ``mixed.datasets[1]`` (a :class:`SyntheticDataset`).

    Args:
        real_dataset: a dataset of dict items ``{"image": (1, S, S) in [-1, 1], "label": int, ...}``.
        sampler: the :class:`medgan.synthesis.GeneratorSampler`.
        ratio: synthetic:real ratio (>= 0).
        labels: the real labels (read from the items when None).
        balance_classes: top up minority classes (see above).
        seed: base seed of the synthetic items.
        transform: transform for the synthetic items only (the real dataset keeps its own).
        max_per_class: at most this many synthetic items of class c (e.g. what a pre-drawn, filtered
            pool holds); None: no cap.
    """
    if not ratio >= 0:
        raise ConfigError(f"synthetic:real ratio must be >= 0, got {ratio}", "e.g. 0.5 or 1.0")
    counts = class_counts_of(labels if labels is not None else real_dataset, sampler.num_classes)
    if balance_classes:
        n_max = int(counts.max()) if counts.size else 0
        wanted = [math.ceil(ratio * n_max) + (n_max - int(n)) for n in counts]
    else:
        wanted = [math.ceil(ratio * int(n)) for n in counts]
    if max_per_class is not None:
        if len(max_per_class) != len(wanted):
            raise ConfigError(f"max_per_class has {len(max_per_class)} entries, the generator has {len(wanted)} classes",
                              "give one cap per class")
        wanted = [min(w, int(m)) for w, m in zip(wanted, max_per_class)]
    keys, as_meta = list(SyntheticDataset.ITEM_KEYS), True
    if len(real_dataset) > 0:
        first = real_dataset[0]
        if isinstance(first, Mapping):
            keys = [k for k in SyntheticDataset.ITEM_KEYS if k in first] or ["image", "label"]
            as_meta = isinstance(first.get("image"), MetaTensor)
    synthetic = SyntheticDataset(sampler, counts_per_class=wanted, seed=seed, transform=transform,
                                 keys=keys, as_metatensor=as_meta)
    return ConcatDataset([real_dataset, synthetic])
