"""Parameter files (ASDF, stpipe's format) for ``strun`` and ``config_file=``.

:func:`parameter_tree` builds the tree of a pipeline's scientific parameters (stpipe's file
plumbing left out), with optional overrides; :func:`write_parameter_file` writes it. The files
in ``config/`` are made this way, and a test checks that they still match the code.

:func:`load_parameter_file` reads one for hstramp's own commands (``--config``) after the
checks stpipe does not make: a size limit, no YAML alias (a "billion laughs" file would make
asdf and stpipe expand it without end), and every ``class`` it names one of hstramp's steps
or pipelines (stpipe imports whatever module a parameter file names).
"""

from __future__ import annotations

import asdf

__all__ = ["MAX_PARAMETER_FILE_BYTES", "MAX_PARAMETER_FILE_NODES", "PLUMBING",
           "hstramp_step_classes", "load_parameter_file", "parameter_tree",
           "write_parameter_file"]

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


#: the largest parameter file read (hstramp's are a few kB)
MAX_PARAMETER_FILE_BYTES = 1 << 20
#: the most YAML events (scalars, mappings, sequences) a parameter file may hold
MAX_PARAMETER_FILE_NODES = 20_000


def hstramp_step_classes():
    """Fully qualified class name -> alias of every step and pipeline hstramp registers."""
    from hstramp.integration import get_steps

    return {class_name: alias for class_name, alias, _is_pipeline in get_steps()}


def _yaml_text(data):
    """The YAML of an ASDF file (up to its end marker or first binary block), or of a YAML
    file; None for anything else (a ConfigObj ``.cfg`` file)."""
    if data.startswith(b"#ASDF") or data.lstrip().startswith((b"%YAML", b"---")):
        for marker in (b"\n...\n", b"\xd3BLK"):
            end = data.find(marker)
            if end >= 0:
                data = data[:end + 1]
        return data.decode("utf-8", errors="replace")
    return None


def _check_yaml_events(path, text):
    """Refuse YAML aliases and oversized trees without building the tree.

    ``yaml.parse`` only reports events (an alias stays one event), so a "billion laughs"
    file costs nothing here, while building and walking its tree (asdf, stpipe) would
    never end.
    """
    import yaml

    from hstramp.errors import ParameterError

    count = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise ParameterError(
                    f"parameter file {path} uses a YAML alias (*{event.anchor}); hstramp "
                    "parameter files never do, and aliases can make a small file expand "
                    "without end")
            count += 1
            if count > MAX_PARAMETER_FILE_NODES:
                raise ParameterError(f"parameter file {path} holds more than "
                                     f"{MAX_PARAMETER_FILE_NODES} YAML nodes")
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameter file {path} is not readable YAML/ASDF: "
                             f"{str(exc).splitlines()[0]}") from exc


def _check_classes(path, config, expected):
    """Every ``class`` of the file (pipeline and steps) is one of hstramp's; the top one,
    when ``expected`` is given, that class."""
    from hstramp.errors import ParameterError

    known = hstramp_step_classes()
    named = [("", config.get("class"))]
    named += [(f"steps/{name}/", section.get("class"))
              for name, section in (config.get("steps") or {}).items()
              if hasattr(section, "get")]
    for where, class_name in named:
        if class_name is None:
            continue
        resolved = class_name if class_name in known else next(
            (name for name, alias in known.items() if alias == class_name), None)
        if resolved is None:
            raise ParameterError(
                f"parameter file {path}: {where}class = {class_name!r} is not an hstramp "
                "step or pipeline; hstramp does not import classes named by a parameter file "
                f"(its classes: {', '.join(sorted(known.values()))})")
        if not where and expected is not None and resolved != expected:
            raise ParameterError(
                f"parameter file {path} is for {class_name}; this command runs {expected}")


def load_parameter_file(path, expected=None):
    """Read a parameter file after checking what stpipe would not: size, YAML aliases, the
    classes it names.

    Parameters
    ----------
    path : str or Path
        An ASDF parameter file (or a ConfigObj ``.cfg`` file, which stpipe also reads).
    expected : str, optional
        The fully qualified class the file must be for (``hstramp.pipeline.wfc3ir.
        WFC3IRPipeline``).

    Returns
    -------
    configobj.ConfigObj
        stpipe's reading of the file.

    Raises
    ------
    ParameterError
        Missing or not a regular file, larger than :data:`MAX_PARAMETER_FILE_BYTES`, a YAML
        alias or more than :data:`MAX_PARAMETER_FILE_NODES` nodes, unreadable, or a
        ``class`` that is not an hstramp step or pipeline (or not ``expected``).
    """
    from pathlib import Path

    from stpipe import config_parser

    from hstramp.errors import ParameterError

    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ParameterError(f"parameter file {path} {what}")
    if path.stat().st_size > MAX_PARAMETER_FILE_BYTES:
        raise ParameterError(f"parameter file {path} is {path.stat().st_size} bytes; "
                             f"parameter files are at most {MAX_PARAMETER_FILE_BYTES}")
    data = path.read_bytes()
    text = _yaml_text(data)
    if text is not None:
        _check_yaml_events(path, text)
    try:
        config = config_parser.load_config_file(str(path))
    except Exception as exc:  # stpipe raises many types for an unreadable file
        raise ParameterError(f"parameter file {path} is not readable: {exc}") from exc
    _check_classes(path, config, expected)
    return config
