"""WFC3IRPipeline: the calwf3 IR stages in calwf3's order, raw (or ima) in, ima and flt out."""

from __future__ import annotations

import logging

from hstramp.datamodels.models import RampModel
from hstramp.pipeline.base import HstrampPipeline
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

__all__ = ["RAMP_STEPS", "WFC3IRPipeline", "last_read_image"]

log = logging.getLogger(__name__)

#: steps that act on the ramp before the fit, in calwf3's order (doir.c)
RAMP_STEPS = ("dq_init", "zsig", "blev", "zoff", "noise", "nlin", "dark", "phot", "unit",
              "flatten_ramp", "jump")

#: the steps that count as work: calwf3's GetIRFlags counts DQICORR, ZOFFCORR, DARKCORR,
#: BLEVCORR, NLINCORR or ZSIGCORR, FLATCORR, PHOTCORR and CRCORR (not UNITCORR, and not the
#: noise, which always runs); flatten-ramp is hstramp's own
WORK_STEPS = ("dq_init", "zsig", "blev", "zoff", "nlin", "dark", "phot", "flatten_ramp",
              "jump", "ramp_fit", "flat")


class WFC3IRPipeline(HstrampPipeline):
    """Calibrate a WFC3/IR MultiAccum exposure: ``_raw.fits`` (or ``_ima.fits``) to ima + flt.

    The ramp steps run in calwf3's order (DQI, ZSIG, BLEV, ZOFF, noise, NLIN, DARK, PHOT,
    UNIT), then jump detection and the ramp fit (CRCORR), then the flat field, applied to every
    read of the ima and to the fitted image. Products ``<rootname>_ima.fits`` and
    ``<rootname>_flt.fits`` are written next to the input, or in ``output_dir``. An
    ``_asn.fits`` association runs every exposure it lists.
    """

    class_alias = "wfc3ir_pipeline"
    input_models = (RampModel,)
    #: the product builders verify their headers as they build them
    output_verify = "ignore"

    spec = """
    save_ima = boolean(default=True)   # write <rootname>_ima.fits
    save_flt = boolean(default=True)   # write <rootname>_flt.fits
    allow_outside_members = boolean(default=False)  # association members may be paths
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
            members = association_members(input_data,
                                          allow_outside=self.allow_outside_members)
            return [self.calibrate(member) for member in members]
        return self.calibrate(input_data)

    def run_steps(self, ramp):
        """The ramp steps, the fit, then the flat on the ramp and on the fitted image.

        With no step to do (every switch OMIT or COMPLETE, or only UNITCORR), nothing is
        written, as calwf3 ("did NOT process", exit status 0).
        """
        if not any(getattr(self, name).reason_not_to_run(ramp) is None for name in WORK_STEPS):
            log.warning("%s: nothing to do for %s: no calibration switch is PERFORM (UNITCORR "
                        "alone does not count, as in calwf3's GetIRFlags); no products "
                        "written", self.name, ramp.meta.filename)
            return ramp, {}
        for name in RAMP_STEPS:
            ramp = self.run_stage(name, ramp)
        image = self.run_stage("ramp_fit", ramp)
        if image is ramp:
            image = None  # CRCORR not performed: the flt is the last read (below)
        else:
            ramp.meta.cal_step.crcorr = image.meta.cal_step.crcorr
            if not ramp.in_rates:
                fitted_counts(image, ramp.meta.bunit_data)
        ramp = self.run_stage("flat", ramp)
        if image is not None:
            image = self.run_stage("flat", image, label="flat (flt)")
        else:
            image = last_read_image(ramp)
            log.info("CRCORR=%s: the flt is the last read of the ima (signal / its time), "
                     "trimmed, as calwf3 writes it", ramp.meta.cal_step.crcorr or "OMIT")
        return image, {"ima": ramp, "flt": image}

    def product_paths(self, model):
        """The products this run will write: suffix -> path."""
        wanted = {"ima": self.save_ima, "flt": self.save_flt}
        return {suffix: self.output_path(model, suffix) for suffix, on in wanted.items() if on}

    def product_hdulist(self, suffix, made, filename):
        """The ima (every read) or the flt, with calwf3's statistics keywords."""
        from hstramp.core.flt import calwf3_cr_flags
        from hstramp.core.geometry import REFERENCE_BORDER
        from hstramp.datamodels.wfc3_fits import flt_product, ima_product, keep_last_read

        if suffix == "ima":
            ramp = made["ima"]
            ramp.groupdq |= ramp.pixeldq  # what the ima holds; its DQ extensions are then views
            calwf3_cr_flags(ramp.groupdq, (REFERENCE_BORDER,) * 4, out=ramp.groupdq)
            return ima_product(ramp, filename, read_statistics(ramp, merged_dq=True),
                               merged_dq=True)
        image, ramp = made["flt"], made["ima"]
        keep_last_read(image, ramp)
        return flt_product(image, filename, statistics=image_statistics(image))


def read_statistics(ramp, merged_dq=False):
    """calwf3's per-read statistics keywords for the SCI and ERR extensions of the ima.

    ``merged_dq``: every read's DQ already holds the pixel DQ (each is used as it is).
    """
    from hstramp.core.geometry import REFERENCE_BORDER
    from hstramp.core.stats import statistics_keywords
    from hstramp.datamodels.wfc3_fits import read_dq

    trim = (REFERENCE_BORDER,) * 4
    sdqflags = ramp.sdqflags
    return [statistics_keywords(ramp.data[i], ramp.err[i],
                                ramp.groupdq[i] if merged_dq else read_dq(ramp, i),
                                trim=trim, sdqflags=sdqflags, calwf3_placement=False)
            for i in range(ramp.ngroups)]


def image_statistics(image):
    """calwf3's statistics keywords for the SCI and ERR extensions of the flt."""
    from hstramp.core.stats import statistics_keywords

    return statistics_keywords(image.data, image.err, image.dq, trim=(0, 0, 0, 0),
                               sdqflags=image.sdqflags,
                               calwf3_placement=False)


def fitted_counts(image, unit):
    """The fitted rate turned back into counts, as calwf3 writes it without UNITCORR.

    calwf3's ``cridcalc.c`` multiplies the fitted rate and its error by the time the fit
    spanned (the flt's TIME) when the ramp is not in rates; the flt is then in COUNTS
    (ELECTRONS after FLATCORR). Modifies ``image`` in place.

    Parameters
    ----------
    image : ImageModel
        The ramp fit's result (rates).
    unit : str
        The ramp's unit (COUNTS, or ELECTRONS for an ima flat-fielded before).
    """
    image.data = image.data * image.time
    image.err = image.err * image.time
    image.meta.bunit_data = unit or "COUNTS"


def last_read_image(ramp):
    """The flt calwf3 writes when CRCORR is not performed: the ima's last read, trimmed.

    calwf3 (``wf3ir.c``) then writes group 0 of the ima (the last read, after every ramp
    step, so in e-/s after UNITCORR: the accumulated signal of the last read divided by its
    time) without the reference border: its SCI, ERR and DQ, SAMP = NSAMP and TIME = the
    read's SAMPTIME.

    Parameters
    ----------
    ramp : RampModel
        The calibrated ramp (the ima).

    Returns
    -------
    ImageModel
    """
    import numpy as np

    from hstramp.core.geometry import REFERENCE_BORDER
    from hstramp.core.stats import science_slices
    from hstramp.datamodels.headers import shift_to_science_area
    from hstramp.datamodels.models import ImageModel
    from hstramp.datamodels.wfc3_fits import read_dq

    trim = (REFERENCE_BORDER,) * 4
    rows, cols = science_slices(ramp.data.shape, trim)
    last = ramp.ngroups - 1
    data = np.array(ramp.data[last, rows, cols])
    image = ImageModel(data=data, err=np.array(ramp.err[last, rows, cols]),
                       dq=np.array(read_dq(ramp, last)[rows, cols]),
                       samp=np.full(data.shape, ramp.ngroups, dtype=np.int16),
                       time=np.full(data.shape, ramp.times[last], dtype=np.float32))
    image.take_metadata(ramp)
    image.meta.bunit_data = ramp.meta.bunit_data
    shift_to_science_area(image, trim)
    return image
