"""User-facing errors.

Every expected failure caused by the user's input (bad data, bad checkpoint, bad option) raises a
subclass of :class:`MedganError`. The CLI prints ``error: <what>`` and ``fix: <hint>`` and exits with
status 2 -- no traceback. Library users catch :class:`MedganError`.
"""
from __future__ import annotations


class MedganError(Exception):
    """An expected, user-caused error with a message saying what is wrong and a hint how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"

    def __reduce__(self):  # keep the hint when the error crosses a process boundary (benchmark workers)
        return type(self), (self.message, self.hint)


class DataError(MedganError):
    """The input data cannot be used (missing, corrupt, malformed, too few images, NaN pixels ...)."""


class CheckpointError(MedganError):
    """A checkpoint or generator export is missing, corrupt, tampered with or does not match."""


class ConfigError(MedganError):
    """An option or configuration value is invalid."""


class TrainingDivergedError(MedganError):
    """GAN training produced NaN/inf losses or a collapsed discriminator."""
