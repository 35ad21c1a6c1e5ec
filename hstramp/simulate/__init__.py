"""Seeded, deterministic WFC3/IR exposures with a complete reference-file set in the real
CRDS formats and a truth file (see ``docs/simulator.md``)."""

from hstramp.simulate.exposure import (
    SimulatedExposure,
    detector_pixel_indices,
    simulate_exposure,
    simulate_tvb_twins,
)
from hstramp.simulate.scene import ScanProfile, TVBProfile
from hstramp.simulate.timing import read_times, subtype_for_size

__all__ = [
    "ScanProfile",
    "SimulatedExposure",
    "TVBProfile",
    "detector_pixel_indices",
    "read_times",
    "simulate_exposure",
    "simulate_tvb_twins",
    "subtype_for_size",
]
