"""Pipelines composing the steps, and what a pipeline needs, asked by instrument."""

__all__ = ["pipeline_reference_types"]


def pipeline_reference_types(instrument: str) -> list:
    """Lower-case reference types hstramp's pipeline for ``instrument`` uses (its steps').

    Parameters
    ----------
    instrument : str
        ``"WFC3"`` or ``"STIS"`` (INSTRUME).

    Returns
    -------
    list of str
        Sorted reference keywords, lower case (``"darkfile"`` ...).
    """
    if instrument == "STIS":
        from hstramp.pipeline.stis import STISCCDPipeline as pipeline
    else:
        from hstramp.pipeline.wfc3ir import WFC3IRPipeline as pipeline
    return sorted({reftype for step in pipeline.step_defs.values()
                   for reftype in step.reference_file_types})
