"""Jump (cosmic-ray) detection by two-point differences on real read times.

The algorithm reads top-down in :mod:`hstramp.core.jump.twopoint`; the modules with a
leading underscore hold the arithmetic it calls (differences, median, noise) and the
machinery that makes it fast without changing a result (sorting networks, batching).
"""

from hstramp.core.jump._parameters import JumpParameters
from hstramp.core.jump.twopoint import detect_jumps

__all__ = ["JumpParameters", "detect_jumps"]
