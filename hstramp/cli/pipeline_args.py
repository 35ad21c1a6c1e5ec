"""The strun-like pipeline options the subcommands that run a pipeline share.

:func:`add_pipeline_arguments` gives a subcommand ``--config FILE`` (an ASDF parameter file,
as strun's first argument), ``--steps.<step>.<param>=VALUE`` for any step parameter
(``--steps.dark.override_darkfile=x_drk.fits``, ``--steps.jump.skip=True``; the pipeline
checks the names and lists the valid ones) and ``--use-crds``. :func:`pipeline_parameters`
turns them into the keyword arguments of the pipeline's constructor (``steps={...}``,
``use_crds=True`` ...), which stpipe validates.
"""

from __future__ import annotations

from hstramp.cli import OneLineParser

__all__ = ["add_pipeline_arguments", "pipeline_parameters"]

_STEP_PREFIX = "--steps."
#: entries of a parameter file that are not parameters
_INTERNAL = {"class", "name", "config_file"}


class _StepOptionsParser(OneLineParser):
    """A parser that also accepts ``--steps.<step>.<param>=VALUE`` (kept in ``step_options``).

    The names are checked by the pipeline itself, which lists the valid ones, so the
    pipeline need not be imported just to build the command line (``hstramp --help``).
    """

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        options = [a for a in extras if a.startswith(_STEP_PREFIX)]
        namespace.step_options = [*getattr(namespace, "step_options", []), *options]
        return namespace, [a for a in extras if not a.startswith(_STEP_PREFIX)]


def add_pipeline_arguments(parser, pipeline="hstramp.pipeline.wfc3ir.WFC3IRPipeline"):
    """Add ``--config``, ``--steps.<step>.<param>=VALUE`` and ``--use-crds`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A subcommand's parser (it becomes one that accepts ``--steps.`` options).
    pipeline : str
        The pipeline class the subcommand runs: a ``--config`` file must be for it.
    """
    parser.__class__ = _StepOptionsParser
    parser.set_defaults(step_options=[], pipeline_class=pipeline)
    group = parser.add_argument_group(
        "pipeline parameters (as strun)",
        "--steps.<step>.<param>=VALUE sets a step parameter, e.g. "
        "--steps.dark.override_darkfile=x_drk.fits or --steps.jump.skip=True "
        "(repeat it for more)")
    group.add_argument("--config", metavar="FILE",
                       help="ASDF parameter file, as strun's first argument "
                            "(e.g. config/wfc3ir_last_minus_first.asdf)")
    group.add_argument("--use-crds", action="store_true", default=None,
                       help="resolve reference files through CRDS (as HSTRAMP_CRDS=1); "
                            "iref/oref and overrides still win")


def _config_file_parameters(path, pipeline) -> dict:
    """A parameter file's pipeline and step parameters as constructor arguments (the file
    checked first: :func:`hstramp.pipeline.parameters.load_parameter_file`)."""
    from hstramp.errors import ParameterError
    from hstramp.pipeline.parameters import load_parameter_file

    try:
        config = load_parameter_file(path, expected=pipeline)
    except ParameterError as exc:
        raise ParameterError(f"--config {path}: {exc}") from exc
    parameters = {k: v for k, v in config.dict().items() if k not in _INTERNAL}
    steps = parameters.pop("steps", {}) or {}
    parameters["steps"] = {step: {k: v for k, v in values.items() if k not in _INTERNAL}
                           for step, values in steps.items()}
    return parameters


def pipeline_parameters(args) -> dict:
    """The pipeline constructor's keyword arguments from parsed options.

    Options on the command line win over the parameter file, as with strun.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser given :func:`add_pipeline_arguments`.

    Returns
    -------
    dict
        ``{"steps": {step: {param: value}}, "use_crds": True, ...}`` (only what was given).
    """
    from hstramp.errors import ParameterError

    parameters = (_config_file_parameters(args.config, args.pipeline_class) if args.config
                  else {"steps": {}})
    for option in args.step_options:
        name, sep, value = option[len(_STEP_PREFIX):].partition("=")
        step, dot, parameter = name.partition(".")
        if not (sep and dot and step and parameter):
            raise ParameterError(f"{option}: write step options as "
                                 "--steps.<step>.<param>=VALUE")
        parameters["steps"].setdefault(step, {})[parameter] = value
    if args.use_crds:
        parameters["use_crds"] = True
    if not parameters["steps"]:
        del parameters["steps"]
    return parameters
