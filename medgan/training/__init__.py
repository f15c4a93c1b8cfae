"""Training: TrainConfig, Trainer / train(), checkpoints, the generator export, multi-process training."""
from medgan.training.checkpoint import load_checkpoint, save_checkpoint
from medgan.training.config import MODEL_DEFAULTS, TrainConfig
from medgan.training.export import read_generator_export, write_generator_export
from medgan.training.loop import train
from medgan.training.trainer import Trainer

__all__ = [
    "MODEL_DEFAULTS",
    "TrainConfig",
    "Trainer",
    "train",
    "load_checkpoint",
    "save_checkpoint",
    "read_generator_export",
    "write_generator_export",
]
