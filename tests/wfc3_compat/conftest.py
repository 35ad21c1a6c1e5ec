"""Fixtures of the calwf3-compatibility tests: the pipeline tests' simulated exposure."""

from tests.pipeline.test_pipeline import exposure, iref  # noqa: F401 (fixtures)
