"""What STIS CCD DQICORR does for each state of the bad-pixel table (calstis ``cs1/dodqi.c``,
``cs1/getflags1.c`` ``checkDQI``, ``cs1/history1.c`` ``dqiHistory``).

For the CCD, DQICORR is three things: saturation (``int(raw) > SATURATE``, 256), the
detector beyond the aperture (4, from APER_FOV) and the BPIXTAB. calstis still does the
first two when the BPIXTAB is DUMMY (it then writes DQICORR = SKIPPED) or not given at all
(blank or N/A: DQICORR = COMPLETE). A BPIXTAB that is named but missing is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BPIXTAB_STATES", "DQIActions", "dqi_actions"]

#: ``good`` (PEDIGREE not DUMMY), ``dummy`` (PEDIGREE DUMMY), ``none`` (blank or N/A)
BPIXTAB_STATES = ("good", "dummy", "none")


@dataclass(frozen=True)
class DQIActions:
    """The parts of DQICORR to run and the switch value written afterwards.

    Attributes
    ----------
    saturation, aperture, bpixtab : bool
        Flag saturation (256), the detector beyond the aperture (4), the bad-pixel table.
    switch : str
        DQICORR in the product header (``COMPLETE`` or ``SKIPPED``); the input value when
        nothing runs.
    """

    saturation: bool
    aperture: bool
    bpixtab: bool
    switch: str


def dqi_actions(dqicorr: str, bpixtab: str) -> DQIActions:
    """The DQICORR actions of calstis for a CCD exposure.

    Parameters
    ----------
    dqicorr : str
        DQICORR switch (PERFORM, OMIT, COMPLETE ...); COMPLETE is *not* reset to OMIT by
        calstis for this step, but cs0 only runs it on PERFORM.
    bpixtab : {'good', 'dummy', 'none'}
        State of the BPIXTAB.

    Returns
    -------
    DQIActions
    """
    state = str(bpixtab).strip().lower()
    if state not in BPIXTAB_STATES:
        raise ValueError(f"bpixtab state {bpixtab!r} is not one of {BPIXTAB_STATES}")
    value = str(dqicorr).strip().upper()
    if value != "PERFORM":
        return DQIActions(saturation=False, aperture=False, bpixtab=False, switch=value)
    return DQIActions(saturation=True, aperture=True, bpixtab=state == "good",
                      switch="SKIPPED" if state == "dummy" else "COMPLETE")
