"""WFC3IRPipeline: the calwf3 IR stages in calwf3's order, raw (or ima) in, ima and flt out."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from hstramp.steps.base import HstrampPipeline, StepSkipped, peak_rss_mb
from hstramp.steps.blev import BiasLevelStep
from hstramp.steps.dark import DarkStep
from hstramp.steps.dq_init import DQInitStep
from hstramp.steps.flat import FlatStep
from hstramp.steps.jump import JumpStep
from hstramp.steps.nlin import NonlinearityStep
from hstramp.steps.noise import NoiseStep
from hstramp.steps.phot import PhotometryStep
from hstramp.steps.ramp_fit import RampFitStep
from hstramp.steps.units import UnitStep
from hstramp.steps.zoff import ZeroReadSubtractStep
from hstramp.steps.zsig import ZeroReadSignalStep

__all__ = ["WFC3IRPipeline"]

log = logging.getLogger(__name__)

#: steps that act on the ramp, in calwf3's order (doir.c)
RAMP_STEPS = ("dq_init", "zsig", "blev", "zoff", "noise", "nlin", "dark", "phot", "unit")


class WFC3IRPipeline(HstrampPipeline):
    """Calibrate a WFC3/IR MultiAccum exposure: ``_raw.fits`` (or ``_ima.fits``) to ima + flt.

    The ramp steps run in calwf3's order (DQI, ZSIG, BLEV, ZOFF, noise, NLIN, DARK, PHOT,
    UNIT), then jump detection and the ramp fit (CRCORR), then the flat field, applied to every
    read of the ima and to the fitted image. Products ``<rootname>_ima.fits`` and
    ``<rootname>_flt.fits`` are written next to the input, or in ``output_dir``.
    """

    class_alias = "wfc3ir_pipeline"

    spec = """
    save_ima = boolean(default=True)   # write <rootname>_ima.fits
    save_flt = boolean(default=True)   # write <rootname>_flt.fits
    overwrite = boolean(default=False) # replace existing products
    """

    step_defs = {
        "dq_init": DQInitStep,
        "zsig": ZeroReadSignalStep,
        "blev": BiasLevelStep,
        "zoff": ZeroReadSubtractStep,
        "noise": NoiseStep,
        "nlin": NonlinearityStep,
        "dark": DarkStep,
        "phot": PhotometryStep,
        "unit": UnitStep,
        "jump": JumpStep,
        "ramp_fit": RampFitStep,
        "flat": FlatStep,
    }

    def process(self, input_data):
        """Run every step; write the products; return the flt ImageModel (or the ramp)."""
        start = time.perf_counter()
        ramp = self.prepare_input(input_data)
        self.check_references(ramp)
        for name in RAMP_STEPS:
            ramp = getattr(self, name).run(ramp)
        ramp = self.jump.run(ramp)
        image = self.ramp_fit.run(ramp)
        ramp = self.flat.run(ramp)
        if image is not None:
            image = self.flat.run(image)
        self.write_products(ramp, image)
        log.info("%s done in %.2f s, peak memory %.0f MB", self.name,
                 time.perf_counter() - start, peak_rss_mb())
        return image if image is not None else ramp

    def prepare_input(self, input_data):
        """The pipeline's own copy of the exposure (a file is read fresh; a model is copied)."""
        from hstramp.datamodels import RampModel
        from hstramp.errors import InputFileError

        model = self._datamodels_open(input_data)
        if not isinstance(model, RampModel):
            raise InputFileError(
                f"{self.name} takes a raw or ima MultiAccum exposure; "
                f"{model.meta.filename} is a {type(model).__name__}"
            )
        return model.copy() if model is input_data else model

    def check_references(self, model):
        """Resolve every reference file the steps will use, before any work is done.

        Raises
        ------
        hstramp.reference.ReferenceFileError
            The first missing or unreadable reference, naming keyword and path.
        """
        for name in self.step_defs:
            step = getattr(self, name)
            if step.skip or step.reason_not_to_run(model) is not None:
                continue
            try:
                step.resolve_references(model)
            except StepSkipped:
                continue  # the step reports this itself when it runs
            finally:
                step._reference_files_used = []

    def output_path(self, model, suffix):
        """``<rootname>_<suffix>.fits`` in ``output_dir`` or next to the input."""
        rootname = model.meta.observation.rootname or Path(model.meta.filename).stem.split("_")[0]
        directory = self.output_dir or self.input_dir or "."
        return Path(directory) / f"{rootname.lower()}_{suffix}.fits"

    def write_products(self, ramp, image):
        """Write the ima and flt products (atomically)."""
        from hstramp.datamodels.wfc3_fits import write_flt, write_ima

        if self.save_ima:
            write_ima(ramp, self.output_path(ramp, "ima"), overwrite=self.overwrite)
        if self.save_flt and image is not None:
            write_flt(image, self.output_path(ramp, "flt"), overwrite=self.overwrite)
