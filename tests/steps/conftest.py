"""Shared fixtures and helpers of the step tests: a simulated exposure, its truth, step tables."""

from dataclasses import dataclass

import numpy as np
import pytest
from astropy.io import fits

from hstramp.steps.blev import BiasLevelStep
from hstramp.steps.dark import DarkStep
from hstramp.steps.dq_init import DQInitStep
from hstramp.steps.flat import FlatStep
from hstramp.steps.nlin import NonlinearityStep
from hstramp.steps.noise import NoiseStep
from hstramp.steps.phot import PhotometryStep
from hstramp.steps.units import UnitStep
from hstramp.steps.zoff import ZeroReadSubtractStep
from hstramp.steps.zsig import ZeroReadSignalStep


@dataclass(frozen=True)
class StepInfo:
    """What the tests know about one step: its pipeline name, class, alias and switch."""

    name: str
    cls: type
    alias: str
    switch: str

    def __str__(self):
        return self.name


#: the ten calwf3 stages this package owns, in calwf3's order (jump and ramp_fit come
#: between unit and flat)
STEPS = (
    StepInfo("dq_init", DQInitStep, "wfc3ir_dq_init", "dqicorr"),
    StepInfo("zsig", ZeroReadSignalStep, "wfc3ir_zsig", "zsigcorr"),
    StepInfo("blev", BiasLevelStep, "wfc3ir_blev", "blevcorr"),
    StepInfo("zoff", ZeroReadSubtractStep, "wfc3ir_zoff", "zoffcorr"),
    StepInfo("noise", NoiseStep, "wfc3ir_noise", "noiscorr"),
    StepInfo("nlin", NonlinearityStep, "wfc3ir_nlin", "nlincorr"),
    StepInfo("dark", DarkStep, "wfc3ir_dark", "darkcorr"),
    StepInfo("phot", PhotometryStep, "wfc3ir_phot", "photcorr"),
    StepInfo("unit", UnitStep, "wfc3ir_unit", "unitcorr"),
    StepInfo("flat", FlatStep, "wfc3ir_flat", "flatcorr"),
)
STEP_BY_NAME = {info.name: info for info in STEPS}
#: DQI .. DARK: the ramp corrections the acceptance statistics are about
TO_DARK = tuple(info.cls for info in STEPS[:7])


def run_steps(model, classes, **parameters):
    """Run step classes one after the other (each a standalone ``.run``); return the result."""
    for cls in classes:
        model = cls(**parameters).run(model)
    return model


@dataclass(frozen=True, eq=False)
class Truth:
    """The truth file of a simulated exposure: images by EXTNAME, tables, header."""

    images: dict
    reads: np.ndarray
    cosmic_rays: np.ndarray
    header: fits.Header

    def __getitem__(self, name):
        return self.images[name]

    def cosmic_ray_mask(self, shape):
        """True for every (read, y, x) that holds cosmic-ray charge (from its read on)."""
        hit = np.zeros(shape, dtype=bool)
        for x, y, read in zip(self.cosmic_rays["X"], self.cosmic_rays["Y"],
                              self.cosmic_rays["READ"], strict=True):
            hit[int(read):, int(y), int(x)] = True
        return hit


def load_truth(path):
    """Read ``<rootname>_truth.fits`` (native-endian float64 images)."""
    with fits.open(path) as hdul:
        images = {hdu.name: np.asarray(hdu.data).astype(hdu.data.dtype.newbyteorder("="))
                  for hdu in hdul[1:] if hdu.is_image}
        return Truth(images=images, reads=np.array(hdul["READS"].data),
                     cosmic_rays=np.array(hdul["CRS"].data), header=hdul[0].header.copy())


@pytest.fixture(autouse=True)
def _no_full_collection_per_step(monkeypatch):
    """stpipe runs a full ``gc.collect()`` at the start of every ``Step.run``: 0.1-0.2 s in a
    test process full of objects, and these tests run steps by the hundred. Leave the
    collection to Python's own thresholds here."""
    import types

    import stpipe.step

    monkeypatch.setattr(stpipe.step, "gc", types.SimpleNamespace(collect=lambda: 0))


@pytest.fixture(scope="session")
def exposure(tmp_path_factory):
    """A 64 x 64 SPARS10 exposure with 5 reads, its references and truth (read-only)."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("steps_sim"), size=64,
                             samp_seq="SPARS10", nsamp=5, seed=21)


@pytest.fixture
def iref(exposure, monkeypatch):
    """``iref`` pointing at the simulated references for the duration of a test."""
    monkeypatch.setenv("iref", str(exposure.iref))
    return exposure.iref


@pytest.fixture(scope="session")
def _raw_template(exposure):
    from hstramp.datamodels import open as open_model

    return open_model(str(exposure.raw_path))


@pytest.fixture
def raw_model(_raw_template, iref):
    """A fresh RampModel of the simulated raw file (a copy: opening the file is slow)."""
    return _raw_template.copy()


@pytest.fixture(scope="session")
def truth(exposure):
    """The truth of :func:`exposure`."""
    return load_truth(exposure.truth_path)
