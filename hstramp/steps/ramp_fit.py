"""Ramp fitting (CRCORR): optimal-weighted slopes on the real read times -> the flt image.

``algorithm='last_minus_first'`` instead takes ``(last - first usable read) / time`` per pixel
(:func:`hstramp.core.tvb.last_minus_first`, what calwf3 gives with CRCORR=OMIT): immune to a
time-variable background, but cosmic rays stay in; the flt header then says so
(RAMPFIT = 'LAST_MINUS_FIRST', CRLEFTIN = T).
"""

import logging

from hstramp.core.flt import apply_invalid_convention
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps, last_minus_first
from hstramp.core.stats import science_slices
from hstramp.core.units import accumulated_counts, count_scale
from hstramp.datamodels.headers import shift_to_science_area
from hstramp.datamodels.models import ImageModel, RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["RampFitStep"]

log = logging.getLogger(__name__)


class RampFitStep(HstrampStep):
    """Fit every pixel's ramp between jumps and saturation; return the trimmed flt image."""

    class_alias = "wfc3ir_ramp_fit"
    switch_keyword = "crcorr"
    reference_file_types = ["ccdtab", "oscntab"]
    input_models = (RampModel,)
    params_class = RampFitParameters
    spec = """
    weighting = option('optimal', 'unweighted', default='optimal')  # Fixsen optimal weights or equal weights
    suppress_one_group = boolean(default=True)  # no slope from a ramp whose only good read is one read
    block_rows = integer(min=0, default=0)  # rows per block (0: automatic, bounded memory)
    save_segments = boolean(default=False)  # keep the per-segment fits (not written to the flt)
    invalid_pixels = option('calwf3', 'nan', default='calwf3')  # pixels without a rate: calwf3's SCI 0 / ERR 1e5, or NaN
    algorithm = option('fit', 'last_minus_first', default='fit')  # fit: slopes between jumps; last_minus_first: (last - first usable read) / time, cosmic rays left in
    """  # noqa: E501

    def apply(self, model, references):
        detector = load_detector(model, references)
        in_rates = model.in_rates
        gain, read_noise = detector.ramp_noise_model(model.meta.bunit_data)
        # only the science area is fitted: the flt has no reference pixels
        frame = science_slices(model.data.shape, detector.trim)
        ramp = (slice(None), *frame)
        data, groupdq, pixeldq = model.data[ramp], model.groupdq[ramp], model.pixeldq[frame]
        gain, read_noise = gain[frame], read_noise[frame]
        if self.algorithm == "last_minus_first":
            counts = accumulated_counts(data, model.times, in_rates=in_rates)
            fit = last_minus_first(counts, groupdq, model.times, gain, read_noise,
                                   pixeldq=pixeldq)
            log.info("%s: last-minus-first rates; cosmic rays are left in (CRLEFTIN=T)",
                     self.name)
        else:
            fit = fit_ramps(data, groupdq, model.times, gain, read_noise,
                            self.core_parameters(), pixeldq=pixeldq,
                            read_scale=count_scale(model.times, in_rates=in_rates))
        model.meta.cal_step.crcorr = "COMPLETE"
        image = self.flt_image(model, fit, detector.trim)
        if self.algorithm == "last_minus_first":
            image.meta.ramp_fit.algorithm = "LAST_MINUS_FIRST"
            image.meta.ramp_fit.cosmic_rays_left_in = True
        return image

    def flt_image(self, model, fit, trim):
        """The flt image of the fit of the science area, with the ramp's metadata."""
        # the fit's own arrays, made for this call: converted in place
        rate, err = apply_invalid_convention(fit.rate, fit.err, self.invalid_pixels,
                                             out=(fit.rate, fit.err))
        image = ImageModel(data=rate, err=err, dq=fit.dq, var_poisson=fit.var_poisson,
                           var_rnoise=fit.var_rnoise, samp=fit.samp, time=fit.time)
        image.take_metadata(model)
        image.meta.bunit_data = rate_unit_of(model.meta.bunit_data)
        shift_to_science_area(image, trim)
        return image


def rate_unit_of(bunit):
    """BUNIT of the fitted rate: ELECTRONS/S for a ramp in electrons, else COUNTS/S."""
    return "ELECTRONS/S" if (bunit or "").upper().startswith("ELECTRONS") else "COUNTS/S"

