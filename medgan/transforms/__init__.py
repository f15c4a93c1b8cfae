"""medgan.transforms: the MONAI face -- synthetic samples as a transform, a dataset and a real+synthetic mix.

The CT preprocessing transforms (``CTWindowd``, ``ResizeToSquared``) live in
:mod:`medgan.data.preprocessing` and are re-exported here so a MONAI pipeline imports every medgan
transform from one place.
"""
from medgan.data.preprocessing import (
    CTWindow,
    CTWindowd,
    CTWindowD,
    CTWindowDict,
    ResizeToSquare,
    ResizeToSquared,
    ResizeToSquareD,
    ResizeToSquareDict,
    file_preprocessing_transforms,
    preprocessing_transforms,
)
from medgan.data.windows import WINDOW_PRESETS, IntensityWindow
from medgan.transforms.dataset import SyntheticDataset, class_counts_of, mix_real_and_synthetic
from medgan.transforms.synthetic import (
    SyntheticSample,
    SyntheticSampled,
    SyntheticSampleD,
    SyntheticSampleDict,
)

__all__ = [
    "WINDOW_PRESETS",
    "IntensityWindow",
    "CTWindow",
    "CTWindowd",
    "CTWindowD",
    "CTWindowDict",
    "ResizeToSquare",
    "ResizeToSquared",
    "ResizeToSquareD",
    "ResizeToSquareDict",
    "preprocessing_transforms",
    "file_preprocessing_transforms",
    "SyntheticSample",
    "SyntheticSampled",
    "SyntheticSampleD",
    "SyntheticSampleDict",
    "SyntheticDataset",
    "mix_real_and_synthetic",
    "class_counts_of",
]
