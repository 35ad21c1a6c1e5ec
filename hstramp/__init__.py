"""hstramp: calibration of HST WFC3/IR up-the-ramp exposures in the JWST pipeline style."""

__version__ = "0.1.0"
