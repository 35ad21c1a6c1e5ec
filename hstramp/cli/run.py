"""``hstramp run``: ``strun``'s command line, with hstramp's one-line errors.

``strun`` prints a Python traceback before any error a step raises (stpipe catches nothing but
its own exit exception); ``hstramp run`` takes the same arguments, runs the same stpipe code
(:meth:`stpipe.Step.from_cmdline`) and reports an hstramp error in one line with status 2.
It also checks what it is asked to run before stpipe imports anything: an alias or class
name must be one of hstramp's, and a parameter file must pass
:func:`hstramp.pipeline.parameters.load_parameter_file` (no YAML alias, hstramp classes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: stpipe configures the logging (as for strun); the hstramp command must not add its own
STPIPE_LOGGING = True


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = (
        "Run an hstramp step or pipeline exactly as strun does (same arguments), but an "
        "hstramp error is one line and exit status 2 instead of a traceback. Example: "
        "hstramp run wfc3ir_pipeline x_raw.fits --output_dir=out --steps.jump.skip=true")
    parser.add_argument("target", metavar="ALIAS_OR_PARAMETER_FILE",
                        help="a step or pipeline alias (stpipe list), its class, or an ASDF "
                             "parameter file")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, metavar="...",
                        help="the input and --parameter=value options, as for strun")


def check_target(target):
    """Refuse, before stpipe imports it, a target that is not hstramp's.

    Raises
    ------
    ParameterError
        An unknown alias or class name, or a parameter file that fails
        :func:`~hstramp.pipeline.parameters.load_parameter_file`.
    """
    from hstramp.errors import ParameterError
    from hstramp.pipeline.parameters import hstramp_step_classes, load_parameter_file

    if Path(target).exists():
        load_parameter_file(target)
        return
    known = hstramp_step_classes()
    if target not in known and target not in known.values():
        raise ParameterError(f"{target!r} is neither a parameter file nor an hstramp step or "
                             f"pipeline; choose one of {', '.join(sorted(known.values()))}")


def run(args):
    """Check the target, then hand the command line to stpipe."""
    from stpipe import Step

    check_target(args.target)
    Step.from_cmdline([args.target, *args.arguments])
    return 0
