"""File-name conventions read before anything heavy is imported (no numpy, no astropy).

``hstramp batch`` sorts its inputs into exposures and associations with these before it
starts its workers, so that the workers start at once.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["is_association"]


def is_association(path):
    """True if ``path`` names an HST association table (``*_asn.fits``)."""
    return isinstance(path, (str, Path)) and str(path).lower().endswith("_asn.fits")
