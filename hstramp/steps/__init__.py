"""stpipe steps, one module per calibration stage, each thin over hstramp.core: the WFC3/IR
stages here, the STIS CCD stages in ``hstramp.steps.stis``. ``base`` is the plumbing they
share and ``headers`` the header edits; no step module imports another."""
