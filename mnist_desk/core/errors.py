"""Errors a user can act on. Each message is one line, meant to be shown as it is."""


class MnistDeskError(Exception):
    """Base class: the command line prints these without a traceback, the GUI in a dialog."""


class ConfigError(MnistDeskError, ValueError):
    """A configuration value is out of range or of the wrong type."""


class DataError(MnistDeskError):
    """MNIST could not be found, downloaded or read."""


class CheckpointError(MnistDeskError):
    """A checkpoint could not be saved, read or validated."""


class TrainingError(MnistDeskError):
    """Training could not go on (a NaN loss, out of memory, a missing device)."""


class ImageError(MnistDeskError):
    """An image file could not be read."""
