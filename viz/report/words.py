"""Numbers, durations and column names in the words a planner reads: no slugs, no "(1)".

Depths below 1 m are given in cm, areas above a hectare in hectares too, money in millions or
billions, fractions in per cent, times as ``1 h 30 min``. Names of the run's files (``summary.json``
keys, ``buildings.csv`` columns) are turned into words with their unit taken from the name's
suffix (``_m``, ``_m2``, ``_m3``, ``_s``, ``_krw``, ``_fraction``, ``_probability``, ``_relative``).
"""

from __future__ import annotations

import math
import re

#: Name suffixes and the unit they stand for (the longest suffix that matches wins).
SUFFIX_UNITS = (("_per_year", "per year"), ("_years", "years"),
                ("_per_s", "per s"), ("_relative", "%"), ("_m3_s", "m³/s"), ("_m2_s", "m²/s"), ("_m_s", "m/s"), ("_m3", "m³"), ("_m2", "m²"),
                ("_krw", "KRW"), ("_m", "m"), ("_s", "s"), ("_fraction", "%"), ("_probability", "%"))

#: Names whose words are not just the name with its underscores as spaces.
NAMED = {
    "building_id": "building",
    "use": "use",
    "expected_depth_max_m": "depth at the walls",
    "depth_max_p90_m": "depth at the walls, 90th percentile",
    "expected_depth_mean_m": "mean depth at the walls",
    "depth_mean_p90_m": "mean depth at the walls, 90th percentile",
    "expected_damage_fraction": "damage",
    "risk_class_name": "risk class",
    "control_ignition_time_s": "fire reached it after",
    "n_ring_cells": "cells around the walls",
    "value_krw": "value",
    "peak_depth_m": "peak depth",
    "cells_in_domain": "cells in the domain",
    "closure_relative": "closure error, relative",
    "burn_probability": "burn probability",
    "ead_krw": "expected annual damage, per year",
    "expected_annual_damage_krw": "expected annual damage, per year",
    "first_floor_flood_rp_years": "water above the first floor first at T",
    "aep_per_year": "annual exceedance probability",
}


def name_and_unit(name: str) -> tuple[str, str]:
    """A file's column or key name in words, and the unit its suffix names (``""`` for none).

    Parameters
    ----------
    name : str
        E.g. ``expected_flood_loss_krw``, ``p_depth_over_0p5m``, ``burned_area_m2``.

    Returns
    -------
    tuple of str
        E.g. ``("expected flood loss", "KRW")``, ``("probability of depth over 0.5 m", "%")``,
        ``("burned area", "m²")``.
    """
    unit = ""
    stem = name
    for suffix, suffix_unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            unit, stem = suffix_unit, name[: -len(suffix)]
            break
    if name.startswith("p_"):
        unit, stem = "%", "probability of " + stem[2:]
    if name in NAMED:
        return NAMED[name], unit
    if event := re.fullmatch(r"loss_T(\d+(?:p\d+)?)", stem):
        return f"loss at T = {event.group(1).replace('p', '.')} years", unit
    words = re.sub(r"(\d+)p(\d+)m\b", r"\1.\2 m", stem)
    words = re.sub(r"_(\d+)m\b", r" \1 m", words)
    words = re.sub(r"within_(\d+)s\b", lambda m: f"within {duration(float(m.group(1)))}", words)
    words = re.sub(r"_p(\d+)$", r", \1th percentile", words)
    return words.replace("_", " ").strip(), unit


def duration(seconds: float) -> str:
    """A duration (s) in words: ``45 s``, ``15 min``, ``2 h``, ``1 h 30 min``, ``1 d 2 h``."""
    if not math.isfinite(seconds):
        return "never"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes = int(round(seconds / 60.0))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{v} {u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "min")) if v]
    return " ".join(parts) if parts else "0 min"


def depth(metres: float) -> str:
    """A depth (m): in cm below 1 m (``19 cm``), else in m to the cm (``1.25 m``, ``2 m``)."""
    if not math.isfinite(metres):
        return "–"
    if abs(metres) < 1.0:
        return f"{100.0 * metres:.0f} cm"
    return f"{metres:.2f}".rstrip("0").rstrip(".") + " m"


def area(square_metres: float) -> str:
    """An area (m²), with hectares from 1 ha (``477,025 m² (47.7 ha)``)."""
    text = f"{square_metres:,.0f} m²"
    if square_metres >= 1e4:
        text += f" ({square_metres / 1e4:,.1f} ha)"
    return text


def money_scale(amount: float) -> tuple[float, str]:
    """The scale and its word an amount is written in: ``(1e9, "billion")``, … ``(1.0, "")``."""
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(amount) >= scale:
            return scale, word
    return 1.0, ""


def money(amount: float, currency: str = "KRW") -> str:
    """An amount of money in millions or billions (``285.3 billion KRW``)."""
    scale, word = money_scale(amount)
    if not word:
        return f"{amount:,.0f} {currency}"
    return f"{amount / scale:,.1f} {word} {currency}"


def percent(fraction: float) -> str:
    """A fraction (0..1) in per cent, with one decimal below 10 % (``5.4 %``, ``37 %``)."""
    if not math.isfinite(fraction):
        return "–"
    p = 100.0 * fraction
    return f"{p:.1f} %" if abs(p) < 10 else f"{p:.0f} %"


def value(number, unit: str) -> str:
    """A number in words for its unit (as :func:`name_and_unit` gives it).

    Parameters
    ----------
    number : int, float, str, bool or None
        The value (a string or None is shown as is, ``–`` for None).
    unit : str
        ``m``, ``m²``, ``m³``, ``s``, ``KRW``, ``%`` (of a fraction 0..1) or any other unit
        (written after the number), ``""`` for a count or a plain number.

    Returns
    -------
    str
    """
    if number is None:
        return "–"
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return str(number)
    formats = {"m": depth, "m²": area, "s": duration, "KRW": money, "%": percent}
    if unit in formats:
        return formats[unit](number)
    if isinstance(number, int) or float(number).is_integer() and abs(number) < 1e15:
        text = f"{int(number):,}"
    else:
        text = f"{number:,.4g}" if abs(number) < 1e4 else f"{number:,.0f}"
    return f"{text} {unit}" if unit else text
