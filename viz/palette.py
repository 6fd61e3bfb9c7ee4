"""The class bounds and colours every product shares (stills, animations, the viewer, the report),
so that a planner reads the same colour as the same class everywhere.

Constants only (no pyvista, no matplotlib): the report and the viewer import them without the 3D
stack.

- Water depth: lower bounds (m) of the classes planners use, 5, 10, 30, 50 cm, 1 and 2 m (the last
  open above), in ColorBrewer *Blues* (classes 4-9 of 9), light to dark.
- Flood hazard rating: one colour per class of :data:`twin.hazards.flood.rating.HAZARD_CLASSES`,
  yellow, orange, red, dark red (the order of the Defra / Environment Agency FD2320 classes "low",
  "danger for some", "danger for most", "danger for all"; the shades are this project's choice).
- Buildings: one colour per risk class of :data:`twin.risk.vulnerability.RISK_CLASSES`, "none"
  neutral grey, then ColorBrewer *RdYlBu* yellow, orange, red.
"""

from __future__ import annotations

#: Lower bounds (m) of the water-depth classes; the last class is open above.
DEPTH_BOUNDS_M = (0.05, 0.10, 0.30, 0.50, 1.00, 2.00)
#: One colour per depth class, light to dark blue.
DEPTH_COLOURS = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
#: Colour of each flood hazard-rating class, by class name.
HAZARD_COLOURS = {"low": "#ffe34d", "danger_for_some": "#f99d1c", "danger_for_most": "#e2231a",
                  "danger_for_all": "#7f0000"}
#: Neutral grey: buildings in risk class "none", and buildings in no class.
NEUTRAL = "#d4d0c8"
#: Colour of each building risk class, by class name.
RISK_COLOURS = {"none": NEUTRAL, "low": "#fee08b", "medium": "#fc8d59", "high": "#d73027"}
