"""Synthetic-sample injection: with probability ``prob`` replace an image by a synthesized image of its class.

The transform only *draws* (whether to replace, and a per-sample seed from ``self.R``); the image is then
produced deterministically by :meth:`medgan.synthesis.GeneratorSampler.sample` from ``(class, seed)`` and
the draw is recorded in the output's meta::

    {"synthetic": True, "synthetic_class": int, "synthetic_class_name": str, "synthetic_seed": int,
     "generator_fingerprint": str}

Labels stay valid because the class is read from the sample's own label. Accepted labels: an int, a 0-d
or one-element tensor/array, a class name, or a one-hot / probability vector with one entry per class
(its argmax is used).

Place it after the cached, deterministic part of a pipeline (``CacheDataset`` caches up to the first random
transform, which this is) and after intensity windowing: the synthetic image is in the model range
[-1, 1] (``intensity="unit"``); pass ``intensity="native"`` to get HU / 0..255 instead, for pipelines that
window later. The incoming image must be channel-first with one channel, ``(1, H, W)``; if ``(H, W)``
differs from the generator's size the synthetic image is resized to it with MONAI ``Resize``
(bilinear, anti-aliased when shrinking), so it can replace any image in the batch.
"""
from __future__ import annotations

from typing import Any, Hashable, Mapping

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, RandomizableTransform, Resize

from medgan.errors import ConfigError, DataError

__all__ = ["SyntheticSample", "SyntheticSampled", "SyntheticSampleD", "SyntheticSampleDict", "label_to_index"]

_MAX_SEED = 2**31 - 1


def label_to_index(label: Any, sampler: Any) -> int:
    """Class index of a label: int, class name, 0-d/one-element tensor or array, or a one-hot vector."""
    if isinstance(label, str):
        return sampler.class_index(label)
    if torch.is_tensor(label):
        label = label.detach().cpu().numpy()
    arr = np.asarray(label)
    if arr.size == 1:
        value = arr.reshape(()).item()
        if isinstance(value, float) and not float(value).is_integer():
            raise DataError(f"label {value!r} is not a class index", "labels must be integers, names or one-hot vectors")
        return sampler.class_index(int(value))
    if arr.ndim >= 1 and arr.size == sampler.num_classes:
        return int(np.argmax(arr.reshape(-1)))
    raise DataError(f"cannot read a class from label of shape {arr.shape}",
                    f"use an int, a class name, or a one-hot vector of length {sampler.num_classes}")


class SyntheticSample(RandomizableTransform):
    """Array version: ``SyntheticSample(sampler, prob)(img, label) -> img`` (maybe a synthetic one).

    Args:
        sampler: a :class:`medgan.synthesis.GeneratorSampler` (from :func:`medgan.synthesis.load_generator`).
        prob: probability of replacing the image.
        intensity: "unit" (model range [-1, 1]) or "native" (HU or 0..255 via the generator's window).
    """

    def __init__(self, sampler: Any, prob: float = 0.5, intensity: str = "unit") -> None:
        RandomizableTransform.__init__(self, prob)
        if intensity not in ("unit", "native"):
            raise ConfigError(f"unknown intensity {intensity!r}", "use 'unit' ([-1, 1]) or 'native' (HU / 0..255)")
        self.sampler = sampler
        self.intensity = intensity
        self._seed = 0

    def randomize(self, data: Any = None) -> None:
        """Draw whether to replace and, if so, the per-sample seed (both from ``self.R``)."""
        super().randomize(None)
        if self._do_transform:
            self._seed = int(self.R.randint(0, _MAX_SEED))

    def synthesize(self, img: Any, cls: int, seed: int) -> MetaTensor:
        """Deterministic part: the synthetic image of class ``cls`` and ``seed``, shaped like ``img``."""
        shape = tuple(img.shape)
        if len(shape) != 3 or shape[0] != 1:
            raise DataError(f"SyntheticSample expects a channel-first (1, H, W) image, got shape {shape}",
                            "add EnsureChannelFirstd before it and use single-channel images")
        out = self.sampler.sample([cls], [seed])[0]  # (1, S, S) in [-1, 1]
        if tuple(out.shape[1:]) != shape[1:]:
            out = Resize(spatial_size=shape[1:], mode="bilinear", anti_aliasing=True)(out)
            out = torch.as_tensor(out).clamp(-1.0, 1.0)
        if self.intensity == "native":
            out = self.sampler.window.from_unit(out)
        out = torch.as_tensor(out, dtype=torch.float32)
        meta = dict(img.meta) if isinstance(img, MetaTensor) else {}  # keeps the incoming affine
        meta.update({"synthetic": True, "synthetic_class": int(cls),
                     "synthetic_class_name": self.sampler.class_names[int(cls)],
                     "synthetic_seed": int(seed), "generator_fingerprint": self.sampler.fingerprint})
        result = MetaTensor(out, meta=meta)
        if isinstance(img, torch.Tensor):
            result = result.to(img.device)
        return result

    def __call__(self, img: Any, label: Any = None, randomize: bool = True) -> Any:  # type: ignore[override]
        """Return ``img`` unchanged, or (with probability ``prob``) a synthetic image of ``label``'s class."""
        if randomize:
            self.randomize()
        if not self._do_transform:
            return img
        if label is None:
            raise DataError("SyntheticSample needs the sample's label to synthesize an image of the same class",
                            "call it as transform(img, label)")
        return self.synthesize(img, label_to_index(label, self.sampler), self._seed)


class SyntheticSampled(RandomizableTransform, MapTransform):
    """Dictionary version of :class:`SyntheticSample`: replaces ``data[key]`` for every key in ``keys``.

    All keys of one sample get the same synthetic image (one draw per sample). The label is read from
    ``data[label_key]`` and left unchanged.

    Args:
        keys: image key(s) to replace.
        sampler: a :class:`medgan.synthesis.GeneratorSampler`.
        label_key: key of the class label.
        prob: probability of replacing the sample's image(s).
        intensity: "unit" ([-1, 1]) or "native" (HU / 0..255).
        flag_key: if given, ``data[flag_key]`` is set to True/False on every sample (so batches can count
            synthetic samples; the meta flag is lost when MONAI collates differing metas).
        allow_missing_keys: skip absent image keys instead of raising.
    """

    def __init__(self, keys: KeysCollection = "image", sampler: Any = None, label_key: str = "label",
                 prob: float = 0.5, intensity: str = "unit", flag_key: str | None = None,
                 allow_missing_keys: bool = False) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        if sampler is None:
            raise ConfigError("SyntheticSampled needs a sampler", "pass sampler=medgan.synthesis.load_generator(RUN)")
        self.label_key = label_key
        self.flag_key = flag_key
        self.inner = SyntheticSample(sampler, prob=1.0, intensity=intensity)

    @property
    def sampler(self) -> Any:
        return self.inner.sampler

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None) -> "SyntheticSampled":
        super().set_random_state(seed, state)
        return self

    def randomize(self, data: Any = None) -> None:
        super().randomize(None)
        if self._do_transform:
            self._seed = int(self.R.randint(0, _MAX_SEED))

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize()
        if self.flag_key is not None:
            d[self.flag_key] = bool(self._do_transform)
        present = list(self.key_iterator(d))
        if not self._do_transform:
            return d
        if self.label_key not in d:
            raise DataError(f"SyntheticSampled: label key {self.label_key!r} not in the sample (keys: {list(d)})",
                            "pass label_key= the key holding the class label")
        cls = label_to_index(d[self.label_key], self.sampler)
        for key in present:
            d[key] = self.inner.synthesize(d[key], cls, self._seed)
        return d


SyntheticSampleD = SyntheticSampleDict = SyntheticSampled
