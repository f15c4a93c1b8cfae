"""Training: TrainConfig, Trainer / train(), checkpoints, the generator export, DDP."""
from medgan.training.export import read_generator_export, write_generator_export

__all__ = ["read_generator_export", "write_generator_export"]
