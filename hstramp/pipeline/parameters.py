"""Parameter files (ASDF, stpipe's format) for ``strun`` and ``config_file=``.

:func:`parameter_tree` builds the tree of a pipeline's scientific parameters (stpipe's file
plumbing left out), with optional overrides; :func:`write_parameter_file` writes it. The files
in ``config/`` are made this way, and a test checks that they still match the code.
"""

from __future__ import annotations

import asdf

__all__ = ["PLUMBING", "parameter_tree", "write_parameter_file"]

#: parameters about files, hooks and where references come from, left out of the parameter files
PLUMBING = frozenset({
    "input_dir", "output_dir", "output_ext", "output_file", "output_use_index",
    "output_use_model", "post_hooks", "pre_hooks", "save_results", "search_output_file",
    "suffix", "use_crds", "allow_outside_members",
})


def _scientific(parameters):
    return {k: v for k, v in parameters.items()
            if k not in PLUMBING and not k.startswith("override_")}


def parameter_tree(pipeline_class, overrides=None, steps=None):
    """The parameter-file tree of ``pipeline_class`` with its defaults and ``overrides``.

    Parameters
    ----------
    pipeline_class : type
        A pipeline class (e.g. WFC3IRPipeline).
    overrides : dict, optional
        Pipeline-level parameter values.
    steps : dict, optional
        ``{step name: {parameter: value}}`` step overrides.

    Returns
    -------
    dict
        ``{"class", "name", "parameters", "steps": [{"class", "name", "parameters"}]}``.
    """
    pipeline = pipeline_class(**(overrides or {}), steps=steps or {})
    pars = pipeline.get_pars(full_spec=True)
    tree = {
        "class": f"{pipeline_class.__module__}.{pipeline_class.__name__}",
        "name": pipeline_class.__name__,
        "parameters": _scientific({k: v for k, v in pars.items() if k != "steps"}),
        "steps": [],
    }
    for name, step_class in pipeline_class.step_defs.items():
        tree["steps"].append({
            "class": f"{step_class.__module__}.{step_class.__name__}",
            "name": name,
            "parameters": _scientific(pars["steps"][name]),
        })
    return tree


def write_parameter_file(path, pipeline_class, overrides=None, steps=None):
    """Write :func:`parameter_tree` to an ASDF parameter file.

    Parameters
    ----------
    path : str or Path
        Destination ``.asdf`` file.
    pipeline_class, overrides, steps
        As for :func:`parameter_tree`.
    """
    asdf.AsdfFile(parameter_tree(pipeline_class, overrides, steps)).write_to(path)
