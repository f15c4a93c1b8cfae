"""MONAI transforms: CT windowing/preprocessing and the synthetic-sample injection transform."""
from medgan.transforms.windows import WINDOW_PRESETS, IntensityWindow

__all__ = ["WINDOW_PRESETS", "IntensityWindow"]
