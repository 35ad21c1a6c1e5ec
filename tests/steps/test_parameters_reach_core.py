"""Every step parameter that belongs to a core algorithm reaches its parameter dataclass.

For each step with a ``params_class``, every field of the dataclass is a spec parameter of the
step, and a non-default value given to the step arrives in ``core_parameters()``.
"""

import dataclasses
import re

import pytest

from hstramp.steps.jump import JumpStep
from hstramp.steps.ramp_fit import RampFitStep
from hstramp.steps.tvb import FlattenRampStep

STEPS = [JumpStep, RampFitStep, FlattenRampStep]


def spec_checks(step_class):
    """Parameter name -> its configspec check string, for the step's whole spec."""
    return {name: str(check) for name, check in step_class.load_spec_file().items()}


def another_value(check, default):
    """A valid value different from ``default`` for a configspec check."""
    options = re.findall(r"'([^']*)'", check.split("default=")[0])
    if check.startswith("option"):
        return next(o for o in options if o != default)
    if check.startswith("boolean"):
        return not default
    if check.startswith("integer"):
        return (default or 0) + 3
    if check.startswith("float"):
        return (default or 0.0) + 1.5
    if check.startswith("int_list") or check.startswith("integer_list"):
        return [1, 2, 3, 4]
    raise AssertionError(f"no test value for {check!r}")


@pytest.mark.parametrize("step_class", STEPS, ids=lambda c: c.__name__)
def test_every_core_field_is_a_step_parameter(step_class):
    fields = {f.name for f in dataclasses.fields(step_class.params_class)}
    assert fields <= set(spec_checks(step_class)), fields - set(spec_checks(step_class))


@pytest.mark.parametrize(
    ("step_class", "name"),
    [(cls, f.name) for cls in STEPS for f in dataclasses.fields(cls.params_class)],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_a_non_default_value_reaches_the_core(step_class, name):
    default = getattr(step_class(), name)
    check = spec_checks(step_class)[name]
    if check.startswith(("int_list", "integer_list")) and name == "region":
        value = [1, 5, 2, 6]
    else:
        value = another_value(check, default)
    step = step_class(**{name: value})
    reached = getattr(step.core_parameters(), name)
    given = getattr(step, name)
    if isinstance(given, list):  # configobj lists become tuples in the frozen dataclass
        reached = list(reached)
    assert reached == given != default
