"""The step template of ``hstramp.steps.base`` is a working example: the test runs it as written.

The class in the module docstring is taken from the docstring itself, so a template that
drifts from the base class (an attribute renamed, a hook that no longer exists) fails here.
"""

import dataclasses
import inspect
import logging
import textwrap

import numpy as np
import pytest

import hstramp.steps.base as base
from hstramp.datamodels import RampModel
from hstramp.steps.base import HstrampStep, StepOutcome, collect_outcomes


@dataclasses.dataclass(frozen=True)
class PedestalParameters:
    """The core parameters the template's spec fills."""

    level: float


def subtract_pedestal(data, level):
    """The template's "core" function: a new array, the input untouched."""
    return data - np.float32(level)


def template_source():
    """The indented code block after ``declares ... ::`` in the module docstring."""
    doc = inspect.getdoc(base)
    block = doc.split("::\n\n", 1)[1].split("\n\n" + "and the base class", 1)[0]
    return textwrap.dedent(block)


@pytest.fixture
def pedestal_step():
    namespace = {"HstrampStep": HstrampStep, "RampModel": RampModel,
                 "PedestalParameters": PedestalParameters,
                 "subtract_pedestal": subtract_pedestal}
    exec(compile(template_source(), "hstramp.steps.base template", "exec"), namespace)
    return namespace["PedestalStep"]


def test_the_template_is_the_code_the_test_runs():
    source = template_source()
    assert source.startswith("class PedestalStep(HstrampStep):")
    assert "switch_keyword = " in source and "def apply(self, model, references):" in source


def test_the_template_step_runs_follows_its_switch_and_records(pedestal_step, raw_model,
                                                                caplog):
    raw_model.meta.cal_step.zoffcorr = "PERFORM"
    before = raw_model.data.copy()
    with collect_outcomes() as outcomes, caplog.at_level(logging.INFO, logger="hstramp"):
        result = pedestal_step(level=5.0).run(raw_model)
    np.testing.assert_array_equal(result.data, before - np.float32(5.0))
    np.testing.assert_array_equal(raw_model.data, before)  # the caller's model is untouched
    assert result.meta.cal_step.zoffcorr == "COMPLETE"
    assert result.meta.ref_file.ccdtab == raw_model.meta.ref_file.ccdtab
    [outcome] = outcomes
    assert outcome.status == "COMPLETE" and outcome.seconds >= 0 and outcome.peak_mb > 0
    assert any(r.getMessage().startswith(f"{outcome.step} done in ") for r in caplog.records)


def test_the_template_step_is_not_run_when_its_switch_says_omit(pedestal_step, raw_model):
    raw_model.meta.cal_step.zoffcorr = "OMIT"
    with collect_outcomes() as outcomes:
        result = pedestal_step(level=5.0).run(raw_model)
    np.testing.assert_array_equal(result.data, raw_model.data)
    assert outcomes == [StepOutcome(outcomes[0].step, "NOT RUN", "ZOFFCORR=OMIT in the header")]


def test_the_template_step_refuses_another_model(pedestal_step):
    from hstramp.datamodels import ImageModel
    from hstramp.errors import InputFileError

    image = ImageModel(data=np.zeros((4, 4), np.float32))
    with pytest.raises(InputFileError, match="takes a RampModel"):
        pedestal_step().run(image)
