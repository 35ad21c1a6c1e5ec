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
from hstramp.steps.tvb import FlattenRampStep
from hstramp.steps.units import UnitStep
from hstramp.steps.zoff import ZeroReadSubtractStep
from hstramp.steps.zsig import ZeroReadSignalStep

__all__ = ["RAMP_STEPS", "WFC3IRPipeline"]

log = logging.getLogger(__name__)

#: steps that act on the ramp before the fit, in calwf3's order (doir.c)
RAMP_STEPS = ("dq_init", "zsig", "blev", "zoff", "noise", "nlin", "dark", "phot", "unit",
              "flatten_ramp", "jump")


class WFC3IRPipeline(HstrampPipeline):
    """Calibrate a WFC3/IR MultiAccum exposure: ``_raw.fits`` (or ``_ima.fits``) to ima + flt.

    The ramp steps run in calwf3's order (DQI, ZSIG, BLEV, ZOFF, noise, NLIN, DARK, PHOT,
    UNIT), then jump detection and the ramp fit (CRCORR), then the flat field, applied to every
    read of the ima and to the fitted image. Products ``<rootname>_ima.fits`` and
    ``<rootname>_flt.fits`` are written next to the input, or in ``output_dir``. An
    ``_asn.fits`` association runs every exposure it lists.
    """

    class_alias = "wfc3ir_pipeline"

    spec = """
    save_ima = boolean(default=True)   # write <rootname>_ima.fits
    save_flt = boolean(default=True)   # write <rootname>_flt.fits
    overwrite = boolean(default=False) # replace existing products (never the input file)
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
        "flatten_ramp": FlattenRampStep,
        "jump": JumpStep,
        "ramp_fit": RampFitStep,
        "flat": FlatStep,
    }

    def process(self, input_data):
        """Calibrate one exposure (or each exposure of an association).

        Returns
        -------
        ImageModel or RampModel or list
            The flt image (the ramp if CRCORR did not run); a list for an association.
        """
        from hstramp.datamodels.asn import association_members, is_association

        if is_association(input_data):
            return [self.calibrate(member) for member in association_members(input_data)]
        return self.calibrate(input_data)

    def calibrate(self, input_data):
        """Run every step on one exposure and write its products."""
        start = time.perf_counter()
        self.timings = {}
        ramp = self.prepare_input(input_data)
        self.check_outputs(ramp, input_data)
        self.check_references(ramp)
        for name in RAMP_STEPS:
            ramp = self.run_step(name, ramp)
        image = self.run_step("ramp_fit", ramp)
        if image is ramp:
            image = None  # CRCORR not performed: no fitted image
        else:
            ramp.meta.cal_step.crcorr = image.meta.cal_step.crcorr
        ramp = self.run_step("flat", ramp)
        if image is not None:
            image = self.run_step("flat", image, label="flat (flt)")
        self.write_products(ramp, image)
        log.info("%s done in %.2f s, peak memory %.0f MB", self.name,
                 time.perf_counter() - start, peak_rss_mb())
        return image if image is not None else ramp

    #: callables ``observer(label, model)`` called after every step (the pixel x-ray uses it)
    observers = ()

    def run_step(self, name, model, label=None):
        """Run one step on ``model``, keeping its wall time and peak memory in ``timings``."""
        step = getattr(self, name)
        result = step.run(model)
        if step.timing is not None:
            self.timings[label or name] = step.timing
        for observer in self.observers:
            observer(label or name, result)
        return result

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

    def product_paths(self, model):
        """The products this run will write: suffix -> path."""
        wanted = {"ima": self.save_ima, "flt": self.save_flt}
        return {suffix: self.output_path(model, suffix) for suffix, on in wanted.items() if on}

    def check_outputs(self, model, input_data):
        """Refuse, before any work, to write over the input or over products (unless asked).

        Raises
        ------
        OutputFileError
            A product would replace the input file, or exists and ``overwrite`` is False, or
            the output directory is not writable.
        """
        import os

        from hstramp.errors import OutputFileError

        source = Path(input_data).resolve() if isinstance(input_data, (str, Path)) else None
        for path in self.product_paths(model).values():
            if source is not None and path.resolve() == source:
                raise OutputFileError(
                    f"{path} is the input file; products never replace their input: "
                    "choose another output_dir"
                )
            if path.exists() and not self.overwrite:
                raise OutputFileError(
                    f"output file {path} exists already; remove it or ask for overwrite "
                    "(--overwrite=true / overwrite=True)"
                )
            directory = path.parent
            if directory.is_dir() and not os.access(directory, os.W_OK):
                raise OutputFileError(f"output directory {directory} is not writable")

    def write_products(self, ramp, image):
        """Write the ima and flt, all or nothing, with calwf3's statistics keywords."""
        from hstramp.datamodels.wfc3_fits import flt_hdulist, ima_hdulist, write_hdulists

        paths = self.product_paths(ramp)
        ramp.groupdq |= ramp.pixeldq  # what the ima holds; its DQ extensions are then views
        products = []
        if "ima" in paths:
            products.append((ima_hdulist(ramp, paths["ima"].name, read_statistics(ramp)),
                             paths["ima"]))
        if "flt" in paths and image is not None:
            products.append((flt_hdulist(image, paths["flt"].name,
                                         statistics=image_statistics(image)), paths["flt"]))
        write_hdulists(products, overwrite=self.overwrite, output_verify="ignore")


def read_statistics(ramp):
    """calwf3's per-read statistics keywords for the SCI and ERR extensions of the ima."""
    from hstramp.core.geometry import REFERENCE_BORDER
    from hstramp.core.stats import statistics_keywords
    from hstramp.datamodels.wfc3_fits import read_dq

    trim = (REFERENCE_BORDER,) * 4
    sdqflags = ramp.sdqflags
    return [statistics_keywords(ramp.data[i], ramp.err[i], read_dq(ramp, i),
                                trim=trim, sdqflags=sdqflags, calwf3_placement=False)
            for i in range(ramp.ngroups)]


def image_statistics(image):
    """calwf3's statistics keywords for the SCI and ERR extensions of the flt."""
    from hstramp.core.stats import statistics_keywords

    return statistics_keywords(image.data, image.err, image.dq, trim=(0, 0, 0, 0),
                               sdqflags=image.sdqflags,
                               calwf3_placement=False)
