"""CT preprocessing transforms (MONAI array + dictionary pairs): HU windowing and resize to a square."""
from medgan.data.preprocessing.array import CTWindow, ResizeToSquare
from medgan.data.preprocessing.dictionary import (
    CTWindowd,
    CTWindowD,
    CTWindowDict,
    ResizeToSquared,
    ResizeToSquareD,
    ResizeToSquareDict,
    file_preprocessing_transforms,
    preprocessing_transforms,
)

__all__ = [
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
]
