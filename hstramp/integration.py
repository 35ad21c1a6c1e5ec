"""Entry points for stpipe (steps) and asdf (schemas). Import-light: nothing heavy at import."""

import importlib.resources

#: (fully qualified class name, alias, is_pipeline). Aliases carry the ``wfc3ir_`` / ``hst_``
#: prefix so they never collide with jwst's (``jump``, ``ramp_fit``, ``dq_init`` ...).
_STEPS = [
    ("hstramp.steps.dq_init.DQInitStep", "wfc3ir_dq_init", False),
    ("hstramp.steps.zsig.ZeroReadSignalStep", "wfc3ir_zsig", False),
    ("hstramp.steps.blev.BiasLevelStep", "wfc3ir_blev", False),
    ("hstramp.steps.zoff.ZeroReadSubtractStep", "wfc3ir_zoff", False),
    ("hstramp.steps.noise.NoiseStep", "wfc3ir_noise", False),
    ("hstramp.steps.nlin.NonlinearityStep", "wfc3ir_nlin", False),
    ("hstramp.steps.dark.DarkStep", "wfc3ir_dark", False),
    ("hstramp.steps.phot.PhotometryStep", "wfc3ir_phot", False),
    ("hstramp.steps.units.UnitStep", "wfc3ir_unit", False),
    ("hstramp.steps.tvb.FlattenRampStep", "wfc3ir_flatten_ramp", False),
    ("hstramp.steps.jump.JumpStep", "wfc3ir_jump", False),
    ("hstramp.steps.ramp_fit.RampFitStep", "wfc3ir_ramp_fit", False),
    ("hstramp.steps.flat.FlatStep", "wfc3ir_flat", False),
    ("hstramp.pipeline.wfc3ir.WFC3IRPipeline", "wfc3ir_pipeline", True),
    ("hstramp.steps.stis.dq_init.STISDQInitStep", "stis_ccd_dq_init", False),
    ("hstramp.steps.stis.blev.STISBiasLevelStep", "stis_ccd_blev", False),
    ("hstramp.steps.stis.noise.STISNoiseStep", "stis_ccd_noise", False),
    ("hstramp.steps.stis.bias.STISBiasStep", "stis_ccd_bias", False),
    ("hstramp.steps.stis.crreject.STISCRRejectStep", "stis_ccd_crreject", False),
    ("hstramp.steps.stis.dark.STISDarkStep", "stis_ccd_dark", False),
    ("hstramp.steps.stis.flat.STISFlatStep", "stis_ccd_flat", False),
    ("hstramp.steps.stis.atod.STISAtoDStep", "stis_ccd_atod", False),
    ("hstramp.steps.stis.shading.STISShadingStep", "stis_ccd_shading", False),
    ("hstramp.steps.stis.phot.STISPhotometryStep", "stis_ccd_phot", False),
    ("hstramp.pipeline.stis.STISCCDPipeline", "stis_ccd_pipeline", True),
]


def _importable(class_name):
    """True if the module of ``class_name`` exists (steps land one by one)."""
    module = class_name.rsplit(".", 1)[0]
    return importlib.util.find_spec(module) is not None


def get_steps():
    """Return the steps and pipelines for the ``stpipe.steps`` entry point.

    Returns
    -------
    list of tuple
        ``(class name, alias, is_pipeline)`` for every step this installation provides.
    """
    import importlib.util  # noqa: F401  (makes importlib.util available to _importable)

    return [entry for entry in _STEPS if _importable(entry[0])]


def get_resource_mappings():
    """Return the asdf resource mapping of the hstramp schemas.

    Returns
    -------
    list of asdf.resource.DirectoryResourceMapping
        One mapping: ``asdf://hstramp.org/schemas/<name>`` to the package's YAML files.
    """
    from asdf.resource import DirectoryResourceMapping

    root = importlib.resources.files("hstramp.datamodels") / "schemas"
    return [DirectoryResourceMapping(root, "asdf://hstramp.org/schemas/")]
