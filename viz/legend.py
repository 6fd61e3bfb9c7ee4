"""The classes a rendering draws a layer in, their colours and the words of their labels.

A layer is drawn either in steps (:class:`StepScale`: class ``k`` holds the values from
``bounds[k]`` up to ``bounds[k + 1]``, the last class open above) or, for a field with no scale
planners use, on a continuous colour ramp (:class:`RampScale`). The legend of a still shows the
same classes and colours as the image, and the buildings' legend the classes of the run's risk
table (:data:`twin.risk.vulnerability.RISK_CLASSES`).

* Water depth in the classes of flood maps for planning: 5, 10, 30, 50, 100 and 200 cm
  (:data:`DEPTH_BOUNDS_M`), ColorBrewer *Blues*, light to dark.
* Flood hazard rating to people in the four classes of Defra/Environment Agency FD2320/TR2
  (HR Wallingford et al. 2006, Table 13.1; :data:`twin.hazards.flood.rating.HAZARD_CLASSES`), in the
  yellow, orange, red and dark red that hazard-to-people maps after FD2320 draw them in.
* Arrival times in steps of :data:`ISOCHRONE_EVERY_S` (30 min), one sequential palette from dark
  red (first reached) to orange (last reached); cells never reached are not drawn.
* Probabilities in the steps 10, 25, 50, 75 and 90 % (:data:`PROBABILITY_BOUNDS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from twin.core.classes import LANDCOVER
from twin.hazards.flood.rating import HAZARD_CLASSES, HAZARD_RATING_BOUNDS
from twin.risk.vulnerability import RISK_CLASSES
from viz.palette import DEPTH_BOUNDS_M, DEPTH_COLOURS, RISK_COLOURS
from viz.palette import HAZARD_COLOURS as HAZARD_CLASS_COLOURS

#: Colours of the hazard-rating classes, in the order of HAZARD_CLASSES (low .. danger for all).
HAZARD_COLOURS = tuple(HAZARD_CLASS_COLOURS[label] for label in HAZARD_CLASSES)
#: Interval (s) between isochrones, and the step of the arrival-time classes.
ISOCHRONE_EVERY_S = 1800.0
#: Lower bounds of the probability classes (dimensionless, 0-1); 0 itself is not drawn.
PROBABILITY_BOUNDS = (0.0, 0.10, 0.25, 0.50, 0.75, 0.90)
#: Colour of each building state: the risk classes (none neutral) and "burned" (the control run).
BUILDING_COLOURS = {**RISK_COLOURS, "burned": "#3b3b3b"}
#: Building states, in legend order: burned first, then the risk classes from the highest.
BUILDING_STATES = ("burned", *reversed(RISK_CLASSES))
#: RGB tint (0-255) of the terrain by land-cover code (:data:`twin.core.classes.LANDCOVER`; 0 unknown):
#: muted, so that the hazard's colours stand out, and none of them near a water or hazard colour.
LANDCOVER_RGB = np.array([
    [185, 185, 185],   # 0 unknown / outside
    [176, 190, 200],   # 1 water (river channel, pond)
    [168, 168, 168],   # 2 road
    [206, 200, 192],   # 3 building
    [172, 200, 140],   # 4 grass
    [118, 154, 106],   # 5 forest
    [214, 200, 168],   # 6 bare
    [218, 214, 204],   # 7 urban open space
], dtype=np.uint8)


def length_words(metres: float) -> str:
    """A length in the unit a map reader uses: ``5 cm``, ``50 cm``, ``1 m``, ``2.5 km``."""
    if metres >= 1000:
        return f"{metres / 1000:g} km"
    if metres >= 1 or metres == 0:
        return f"{metres:g} m"
    return f"{round(metres * 100, 1):g} cm"


def duration_words(seconds: float) -> str:
    """A time span as a reader says it: ``45 s``, ``30 min``, ``1 h``, ``1 h 30 min``, ``26 h``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60.0))
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} min"
    return f"{hours} h" if rest == 0 else f"{hours} h {rest:02d} min"


def percent_words(fraction: float) -> str:
    """A fraction (0-1) as a percentage: ``10 %``, ``2.5 %``."""
    return f"{round(100.0 * fraction, 1):g} %"


def range_labels(bounds, words) -> tuple[str, ...]:
    """Labels ``a–b`` of consecutive bounds and ``over z`` for the last, the unit said once where
    both ends share it (``5–10 cm``, ``50 cm – 1 m``, ``over 2 m``)."""
    said = [words(b) for b in bounds]
    labels = []
    for lo, hi in zip(said[:-1], said[1:]):
        lo_num, _, lo_unit = lo.partition(" ")
        if lo_unit == hi.partition(" ")[2] and " " not in lo_unit:
            labels.append(f"{lo_num}–{hi}")
        else:
            labels.append(f"{lo} – {hi}")
    return (*labels, f"over {said[-1]}")


@dataclass(frozen=True)
class StepScale:
    """A layer drawn in classes.

    Attributes
    ----------
    bounds : tuple of float
        Lower bound of each class (layer units), increasing; class ``k`` holds values in
        ``[bounds[k], bounds[k + 1])``, the last class is open above.
    labels : tuple of str
        One label per class.
    colours : tuple of str
        One colour (hex) per class.
    """

    bounds: tuple
    labels: tuple
    colours: tuple

    def classify(self, values: np.ndarray) -> np.ndarray:
        """Class index of each value (int16), -1 for NaN or a value below the first bound."""
        v = np.asarray(values, dtype=np.float64)
        k = np.searchsorted(np.asarray(self.bounds, dtype=np.float64), np.where(np.isfinite(v), v, -np.inf),
                            side="right") - 1
        return k.astype(np.int16)

    def rgb(self) -> np.ndarray:
        """The class colours as an ``(n, 3)`` uint8 array."""
        return np.array([hex_rgb(c) for c in self.colours], dtype=np.uint8)


@dataclass(frozen=True)
class RampScale:
    """A layer drawn on a continuous colour ramp, for fields with no class scale of their own.

    Attributes
    ----------
    cmap : str
        Matplotlib colour map name.
    vmin, vmax : float
        Ends of the ramp (layer units).
    """

    cmap: str
    vmin: float
    vmax: float


def depth_scale(wet_threshold_m: float = DEPTH_BOUNDS_M[0]) -> StepScale:
    """The water-depth classes, the first from the run's wet threshold (m) to the next class
    bound above it, so that every cell drawn as water has a class."""
    bounds = (wet_threshold_m, *(b for b in DEPTH_BOUNDS_M[1:] if b > wet_threshold_m))
    colours = DEPTH_COLOURS[len(DEPTH_COLOURS) - len(bounds):]
    return StepScale(bounds, range_labels(bounds, length_words), colours)


def hazard_scale() -> StepScale:
    """The Defra/EA hazard-rating classes over the class codes 0-3 (``hazard_class`` layer)."""
    some, most, every = HAZARD_RATING_BOUNDS
    ranges = (f"HR < {some:g}", f"{some:g}–{most:g}", f"{most:g}–{every:g}", f"HR > {every:g}")
    labels = tuple(f"{name.replace('_', ' ')} ({r})" for name, r in zip(HAZARD_CLASSES, ranges))
    return StepScale(tuple(float(k) for k in range(len(HAZARD_CLASSES))), labels, HAZARD_COLOURS)


def arrival_scale(last_s: float) -> StepScale:
    """Arrival-time classes every :data:`ISOCHRONE_EVERY_S` from 0 to ``last_s`` (s), dark red
    (first) to orange (last), from the YlOrRd ramp."""
    n = max(1, math.ceil(max(last_s, 1.0) / ISOCHRONE_EVERY_S))
    bounds = tuple(k * ISOCHRONE_EVERY_S for k in range(n))
    ramp = colormaps["YlOrRd_r"]
    colours = tuple(to_hex(ramp(0.72 * k / max(n - 1, 1))) for k in range(n))
    labels = tuple(f"{duration_words(lo) if lo else '0'} – {duration_words(lo + ISOCHRONE_EVERY_S)}" for lo in bounds)
    return StepScale(bounds, labels, colours)


def probability_scale(cmap: str) -> StepScale:
    """Probability classes (:data:`PROBABILITY_BOUNDS`) on a sequential colour map."""
    ramp = colormaps[cmap]
    n = len(PROBABILITY_BOUNDS)
    colours = tuple(to_hex(ramp(0.3 + 0.7 * k / (n - 1))) for k in range(n))
    labels = (f"under {percent_words(PROBABILITY_BOUNDS[1])}",
              *range_labels(PROBABILITY_BOUNDS[1:], percent_words))
    return StepScale(PROBABILITY_BOUNDS, labels, colours)


def landcover_entries(codes: np.ndarray) -> list[tuple[str, str]]:
    """(colour, name) of each land-cover class present among ``codes``, in code order."""
    present = set(np.unique(np.asarray(codes)).tolist())
    names = {code: name.replace("_", " ") for name, code in LANDCOVER.items()}
    return [(to_hex(LANDCOVER_RGB[code] / 255.0), names[code]) for code in sorted(names) if code in present]


def hex_rgb(colour: str) -> np.ndarray:
    """A ``#rrggbb`` colour as a uint8 RGB triple."""
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


#: Colour map of the probability classes of each probability layer; others take PuBu (flood
#: probabilities ``p_*``) and the fire's burn probability OrRd.
PROBABILITY_CMAPS = {"burn_probability": "OrRd"}
#: Colour map of layers drawn on a ramp, by name; others take viridis.
RAMP_CMAPS = {"max_speed": "viridis", "rate_of_spread": "magma_r", "fireline_intensity": "magma_r"}
#: Colour of a layer that is 1 where the hazard reached a cell and 0 elsewhere (a snapshot mask).
REACHED_COLOUR = "#b2182b"


def is_probability(name: str) -> bool:
    """True for probability layers: ``burn_probability`` and risk.nc's ``p_*`` fields."""
    return name.endswith("_probability") or name.startswith("p_")


def pretty_units(units: str) -> str:
    """UDUNITS as a reader writes them: ``m s-1`` -> ``m/s``, ``m2 s-1`` -> ``m²/s``, ``W m-1`` -> ``W/m``."""
    words = {"m s-1": "m/s", "m2 s-1": "m²/s", "W m-1": "W/m", "s m-1/3": "s/m^(1/3)", "1": ""}
    return words.get(units, units)


def layer_style(name: str, values: np.ndarray, *, water: bool, wet_threshold: float,
                last_s: float | None) -> tuple[StepScale | RampScale, np.ndarray]:
    """The scale a layer is drawn in and the cells it draws.

    Parameters
    ----------
    name : str
        The layer's variable name.
    values : numpy.ndarray, shape (ny, nx)
        The field.
    water : bool
        A depth layer (m).
    wet_threshold : float
        Depth (m) above which a cell is wet.
    last_s : float or None
        End of the run (s), the last arrival-time class; default the latest arrival.

    Returns
    -------
    scale : StepScale or RampScale
    shown : numpy.ndarray of bool
        Depth layers: the wet cells; arrival times, hazard classes and ramps: the defined cells;
        probabilities: those above 0; a 0/1 mask: its 1 cells.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if water:
        return depth_scale(wet_threshold), finite & (v > wet_threshold)
    if name == "hazard_class":
        return hazard_scale(), finite
    if name.startswith("arrival_time"):
        last = last_s if last_s else (float(np.nanmax(v)) if finite.any() else 1.0)
        return arrival_scale(last), finite
    if is_probability(name):
        cmap = PROBABILITY_CMAPS.get(name, "PuBu")
        return probability_scale(cmap), finite & (v > 0)
    if finite.any() and np.isin(v[finite], (0.0, 1.0)).all():
        return StepScale((1.0,), ("reached",), (REACHED_COLOUR,)), finite & (v == 1.0)
    lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if finite.any() else (0.0, 1.0)
    return RampScale(RAMP_CMAPS.get(name, "viridis"), lo, hi if hi > lo else lo + 1.0), finite


def cell_colours(scale: StepScale | RampScale, values: np.ndarray) -> np.ndarray:
    """RGB (uint8, shape (ny, nx, 3)) of each cell on ``scale`` (cells below a step scale's first
    class take the first class's colour; they are not drawn)."""
    if isinstance(scale, StepScale):
        return scale.rgb()[scale.classify(values).clip(0)]
    ramp = colormaps[scale.cmap]
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=scale.vmin)
    norm = (v - scale.vmin) / (scale.vmax - scale.vmin)
    return (np.asarray(ramp(norm.clip(0, 1)))[..., :3] * 255).round().astype(np.uint8)
