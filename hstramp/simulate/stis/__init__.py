"""Seeded STIS CCD CR-SPLIT exposures with a complete reference set in the calstis formats
and a truth file (see ``docs/stis/simulator.md``)."""

from hstramp.simulate.stis.exposure import SimulatedSTISExposure, simulate_stis_exposure

__all__ = ["SimulatedSTISExposure", "simulate_stis_exposure"]
