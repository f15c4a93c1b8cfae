"""MONAI transforms: CT windowing/preprocessing and the synthetic-sample injection transform."""
from medgan.transforms.array import CTWindow, ResizeToSquare
from medgan.transforms.dictionary import (
    CTWindowd,
    CTWindowD,
    CTWindowDict,
    ResizeToSquared,
    ResizeToSquareD,
    ResizeToSquareDict,
    file_preprocessing_transforms,
    preprocessing_transforms,
)
from medgan.transforms.synthetic import (
    SyntheticSample,
    SyntheticSampled,
    SyntheticSampleD,
    SyntheticSampleDict,
)
from medgan.transforms.windows import WINDOW_PRESETS, IntensityWindow

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
]
