"""Exceptions users meet. Every message names the file, keyword or parameter at fault."""


class HstrampError(Exception):
    """Base class of every error hstramp raises on purpose."""


class InputFileError(HstrampError, ValueError):
    """An input exposure is not what hstramp can calibrate (format, instrument, contents)."""


class OutputFileError(HstrampError, OSError):
    """A product cannot be written (exists already, directory not writable, write failed)."""


class ParameterError(HstrampError, ValueError):
    """A step or pipeline parameter has a value outside what it accepts."""
