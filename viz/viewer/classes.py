"""Stepped classes of the viewer's layers, with their legends.

A class scheme puts each value in the class whose lower bound it reaches (``bounds[k] <= v <
bounds[k + 1]``, the last class open above); a value below the first bound, or not finite, is in
no class (:data:`NO_CLASS`: the ground shows its land cover, a building its neutral colour).

* Water depth (m) in the classes planners read: 5, 10, 30, 50 cm, 1 and 2 m.
* The flood hazard rating to people in the four classes of Defra/EA FD2320/TR2 Table 13.1
  (:mod:`twin.hazards.flood.rating`), coloured yellow, orange, red and dark red.
* The buildings' combined risk class (:data:`twin.risk.vulnerability.RISK_CLASSES`) by its
  bounds (:data:`twin.risk.vulnerability.RISK_CLASS_BOUNDS`), "none" in the neutral colour.
* Shares (damage fractions) and probabilities in per cent; arrival times in steps that give at
  most :data:`MAX_TIME_CLASSES` classes over the run.
* For a design-event set: annual exceedance probabilities in one class per event of the set (an
  AEP map holds 1/T of one of its events, or 0), and expected annual damage (KRW per year) in
  decades below its largest value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from twin.hazards.flood.rating import HAZARD_RATING_BOUNDS
from twin.risk.vulnerability import RISK_CLASS_BOUNDS, RISK_CLASSES
from viz.palette import DEPTH_BOUNDS_M, DEPTH_COLOURS, HAZARD_COLOURS, NEUTRAL, RISK_COLOURS
from viz.run_data import clock

#: Class index of a value in no class (not drawn).
NO_CLASS = 255
#: The smallest positive number: a lower bound that every value above zero reaches.
ABOVE_ZERO = math.nextafter(0.0, 1.0)
#: Lower bounds (1) of the damage-fraction classes of buildings: none, then above zero.
DAMAGE_BOUNDS = (0.0, ABOVE_ZERO, 0.05, 0.10, 0.30, 0.60)
#: Lower bounds (1) of the probability classes; a probability of 0 is not drawn.
PROBABILITY_BOUNDS = (ABOVE_ZERO, 0.1, 0.3, 0.5, 0.7, 0.9)
#: Steps (s) an arrival-time legend may use, shortest first.
TIME_STEPS_S = (600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0)
#: Most classes of an arrival-time legend.
MAX_TIME_CLASSES = 6


@dataclass(frozen=True)
class Classes:
    """A stepped class scheme and its legend.

    Attributes
    ----------
    title : str
        Legend heading, with the units the labels use.
    labels : tuple of str
        One label per class, lowest first.
    colours : tuple of str
        One ``#rrggbb`` colour per class.
    bounds : tuple of float
        Lower bound of each class, increasing, in the layer's units.
    note : str
        A line under the legend (what is not drawn, where the classes come from).
    """

    title: str
    labels: tuple
    colours: tuple
    bounds: tuple
    note: str = ""

    def __post_init__(self):
        if not len(self.labels) == len(self.colours) == len(self.bounds):
            raise ValueError(f"classes {self.title!r}: {len(self.labels)} labels, {len(self.colours)} colours, "
                             f"{len(self.bounds)} bounds")
        if any(low >= high for low, high in zip(self.bounds, self.bounds[1:])):
            raise ValueError(f"classes {self.title!r}: bounds not increasing: {self.bounds}")

    def classify(self, values) -> np.ndarray:
        """Class index of each value (uint8, :data:`NO_CLASS` below the first bound or not finite)."""
        v = np.asarray(values, dtype=np.float64)
        index = np.searchsorted(np.asarray(self.bounds), np.where(np.isfinite(v), v, -np.inf), side="right") - 1
        return np.where(index >= 0, index, NO_CLASS).astype(np.uint8)

    def legend(self) -> dict:
        """The legend as the page draws it: ``title``, ``entries`` (label, colour), ``note``."""
        return {"title": self.title, "note": self.note,
                "entries": [{"label": label, "colour": colour} for label, colour in zip(self.labels, self.colours)]}


def depth_words(metres: float) -> str:
    """A depth (m) as a planner reads it: centimetres below 1 m (``30 cm``), else metres (``2 m``)."""
    return f"{metres * 100:.3g} cm" if metres < 1.0 else f"{metres:.3g} m"


def percent_words(share: float) -> str:
    """A share (1) in per cent: ``10 %``."""
    return f"{share * 100:.3g} %"


def range_labels(bounds, words) -> tuple[str, ...]:
    """Labels ``a–b`` of consecutive classes (the unit written once where both ends share it),
    ``over x`` for the last; :data:`ABOVE_ZERO` reads 0."""
    said = [words(0.0 if b == ABOVE_ZERO else b) for b in bounds]
    labels = []
    for low, high in zip(said, said[1:]):
        low_number, _, low_unit = low.partition(" ")
        labels.append(f"{low_number}–{high}" if low_unit == high.partition(" ")[2] else f"{low}–{high}")
    return (*labels, f"over {said[-1]}")


def depth_classes(title: str) -> Classes:
    """Water depth (m) in the classes of :data:`DEPTH_BOUNDS_M`; shallower water is not drawn."""
    return Classes(title, range_labels(DEPTH_BOUNDS_M, depth_words), DEPTH_COLOURS, DEPTH_BOUNDS_M,
                   note=f"water under {depth_words(DEPTH_BOUNDS_M[0])} not drawn")


def hazard_rating_classes(labels, title: str, note: str = "") -> tuple[Classes, dict[str, int]]:
    """The Defra/EA flood hazard-rating classes among ``labels`` (the class labels of the run's risk).

    Parameters
    ----------
    labels : sequence of str
        Class labels in the order of the run's class probabilities (e.g. ``dry``, ``low``, ...).
    title, note : str
        Legend heading and note.

    Returns
    -------
    tuple
        The scheme over class indices 0, 1, ... of the hazard-rating classes (HR ranges from
        :data:`twin.hazards.flood.rating.HAZARD_RATING_BOUNDS`), and the position of each of its
        labels among ``labels``. Labels without a hazard colour (``dry``) are left out.
    """
    rated = [label for label in labels if label in HAZARD_COLOURS]
    some, most, every = HAZARD_RATING_BOUNDS
    ranges = {"low": f"HR under {some:g}", "danger_for_some": f"HR {some:g}–{most:g}",
              "danger_for_most": f"HR {most:g}–{every:g}", "danger_for_all": f"HR over {every:g}"}
    words = [f"{label.replace('_', ' ').capitalize()} ({ranges[label]})" for label in rated]
    scheme = Classes(title, tuple(words), tuple(HAZARD_COLOURS[label] for label in rated),
                     tuple(float(k) for k in range(len(rated))), note)
    return scheme, {label: list(labels).index(label) for label in rated}


def risk_classes(title: str = "Buildings: risk class") -> Classes:
    """The combined risk classes over their indices 0 (none) .. 3 (high), with what each means."""
    low, high = RISK_CLASS_BOUNDS
    meaning = {"none": "no expected loss", "low": f"expected loss under {percent_words(low)} of value",
               "medium": f"{percent_words(low)}–{percent_words(high)} of value",
               "high": f"{percent_words(high)} of value or more"}
    return Classes(title, tuple(f"{c} ({meaning[c]})" for c in RISK_CLASSES),
                   tuple(RISK_COLOURS[c] for c in RISK_CLASSES), tuple(float(k) for k in range(len(RISK_CLASSES))))


def damage_classes(title: str) -> Classes:
    """Expected damage fraction (1) of buildings: none (0, neutral), then rising shares."""
    labels = ("none", *range_labels(DAMAGE_BOUNDS[1:], percent_words))
    ramp = colormaps["YlOrRd"](np.linspace(0.2, 0.95, len(DAMAGE_BOUNDS) - 1))
    return Classes(title, labels, (NEUTRAL, *(to_hex(c) for c in ramp)), DAMAGE_BOUNDS)


def probability_classes(title: str, note: str = "probability 0 not drawn") -> Classes:
    """A probability (1) in the classes of :data:`PROBABILITY_BOUNDS`."""
    ramp = colormaps["PuRd"](np.linspace(0.25, 0.95, len(PROBABILITY_BOUNDS)))
    return Classes(title, range_labels(PROBABILITY_BOUNDS, percent_words), tuple(to_hex(c) for c in ramp),
                   PROBABILITY_BOUNDS, note)


def time_step(duration_s: float) -> float:
    """The shortest step of :data:`TIME_STEPS_S` giving at most :data:`MAX_TIME_CLASSES` classes over
    ``duration_s`` (s)."""
    return next((s for s in TIME_STEPS_S if duration_s <= s * MAX_TIME_CLASSES), TIME_STEPS_S[-1])


def time_classes(title: str, duration_s: float, note: str = "never reached: not drawn") -> Classes:
    """Arrival time (s since the start) in steps of :func:`time_step` up to ``duration_s`` (s), the
    earliest darkest; labels ``hh:mm–hh:mm``."""
    step = time_step(duration_s)
    bounds = tuple(step * k for k in range(max(1, math.ceil(duration_s / step))))
    ramp = colormaps["magma"](np.linspace(0.15, 0.9, len(bounds)))
    labels = tuple(f"{clock(b)}–{clock(min(b + step, duration_s))}" for b in bounds)
    return Classes(title, labels, tuple(to_hex(c) for c in ramp), bounds, note)


def burned_classes(title: str) -> Classes:
    """A burned flag (1 burned, 0 not): one class."""
    return Classes(title, ("burned",), ("#b2182b",), (0.5,), "unburned ground not drawn")


def value_classes(title: str, values, units: str, n: int = 6) -> Classes:
    """Any other field: ``n`` equal steps between its finite minimum and maximum (in ``units``)."""
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    count = n if high > low else 1
    bounds = tuple(low + (high - low) * k / count for k in range(count))
    ramp = colormaps["viridis"](np.linspace(0.0, 1.0, count))
    unit = "" if units == "1" else f" {units}"
    labels = tuple(f"{a:.3g}–{b:.3g}{unit}" for a, b in zip(bounds, (*bounds[1:], high)))
    return Classes(title, labels, tuple(to_hex(c) for c in ramp), bounds)


def aep_classes(title: str, return_periods, note: str = "") -> Classes:
    """Annual exceedance probability (1/year) in one class per return period T (years) of an event
    set, class k from 1/T_k (the rarest first, lightest; the most frequent darkest): an AEP map of
    the set holds exactly 1/T of an event, and 0 (not drawn) where no event exceeds."""
    t = np.sort(np.asarray(return_periods, dtype=np.float64))[::-1]
    ramp = colormaps["OrRd"](np.linspace(0.25, 0.95, t.size))
    labels = tuple(f"first exceeded at T = {x:g} years ({percent_words(1.0 / x)} a year)" for x in t)
    return Classes(title, labels, tuple(to_hex(c) for c in ramp), tuple(1.0 / t), note)


#: Classes of expected annual damage: decades below the largest value.
MONEY_DECADES = 5


def money_words(krw: float) -> str:
    """An amount of won in words: ``5,000 KRW``, ``10 million KRW``, ``2.5 billion KRW``."""
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if krw >= scale:
            return f"{krw / scale:g} {word} KRW"
    return f"{krw:,.0f} KRW"


def annual_damage_classes(title: str, values, none: bool) -> Classes:
    """Expected annual damage (KRW per year) in :data:`MONEY_DECADES` decades up to the power of ten
    above the largest finite value (the lowest class from 0); with ``none``, 0 is a class of its own
    in the neutral colour (buildings without damage), else 0 is not drawn (cells without a building)."""
    v = np.asarray(values, dtype=np.float64)
    top = float(np.max(v[np.isfinite(v)], initial=0.0))
    top_decade = 10.0 ** math.ceil(math.log10(top)) if top > 0 else 1.0
    bounds = (ABOVE_ZERO, *(top_decade * 10.0 ** -k for k in range(MONEY_DECADES - 1, 0, -1)))
    ramp = tuple(to_hex(c) for c in colormaps["YlOrRd"](np.linspace(0.2, 0.95, len(bounds))))
    labels = range_labels(bounds, money_words)
    if none:
        return Classes(title, ("none", *labels), (NEUTRAL, *ramp), (0.0, *bounds))
    return Classes(title, labels, ramp, bounds, "no damage: not drawn")


def duration_words(seconds: float) -> str:
    """A duration (s) in hours and minutes: ``2 h``, ``1 h 30 min``, ``45 min``."""
    hours, minutes = divmod(int(round(seconds / 60.0)), 60)
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "")
                    if part) or "0 min"
