"""Parsing quantities given in scenario files and converting them to SI at the schema boundary.

Durations are written as ``"3 h"``, ``"90 min"``, ``"5400 s"``, ``"2 d"`` or a plain number of
seconds. Rainfall intensities are given in mm/h (as analysts think) and converted to m/s here,
once.
"""

from __future__ import annotations

import re

#: Seconds per duration unit.
_SECONDS = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
            "min": 60.0, "minute": 60.0, "minutes": 60.0,
            "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
            "d": 86400.0, "day": 86400.0, "days": 86400.0}

_DURATION = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*$")

#: Metres per second in one millimetre per hour.
MM_PER_H = 1e-3 / 3600.0


def parse_duration(value: object) -> float:
    """A duration in seconds from a number (seconds) or a string with a unit.

    Parameters
    ----------
    value : int, float or str
        ``5400``, ``"5400 s"``, ``"90 min"``, ``"1.5 h"``, ``"1 d"``.

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    ValueError
        For anything else, with the accepted forms in the message.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration like '3 h', '90 min', '5400 s' or a number of seconds")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise ValueError("duration too large to be a number of seconds") from None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            number, unit = m.groups()
            if unit == "":
                return float(number)
            if unit.lower() in _SECONDS:
                return float(number) * _SECONDS[unit.lower()]
    raise ValueError("expected a duration like '3 h', '90 min', '5400 s' or a number of seconds")
