"""The frame around a 3D view: a title band, a legend panel on the right and a credits line.

The 3D scene is rendered at the size of the view (:func:`frame_layout`); the frame is drawn
with matplotlib as an RGBA image that is transparent over the view, and the two are put
together by :func:`compose_image`. Nothing of the frame covers the scene, so every cell the
scene shows stays visible. The panel holds, top to bottom: the north arrow, the wind arrow
(fire runs) and a scale bar, each measured from the camera (:mod:`viz.camera`); then one
section per legend (the hazard layer, the buildings, the land cover, marks on the map).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Rectangle

from viz.legend import RampScale, StepScale

#: Height of the title band, the credits line, and width of the legend panel, as shares of the image.
HEADER_SHARE, FOOTER_SHARE, PANEL_SHARE = 0.095, 0.035, 0.235
#: Most classes a step legend lists one per row; longer scales are drawn as a stepped bar.
MAX_ROWS = 8
#: Grey of the frame's text and lines.
INK = "#222222"


@dataclass(frozen=True)
class FrameLayout:
    """Where things go in an image of ``size`` (pixels, width x height).

    Attributes
    ----------
    size : tuple of int
        Image width and height (pixels).
    view : tuple of int
        The 3D view: left column, top row, width, height (pixels).
    """

    size: tuple
    view: tuple


def frame_layout(size: tuple[int, int]) -> FrameLayout:
    """The layout of an image of ``size`` (width, height in pixels): the view fills what the title
    band, the credits line and the legend panel leave, its sides even (for video encoders)."""
    width, height = int(size[0]), int(size[1])
    top = int(round(HEADER_SHARE * height))
    view_h = (height - top - int(round(FOOTER_SHARE * height))) // 2 * 2
    view_w = int(round(width * (1.0 - PANEL_SHARE))) // 2 * 2
    return FrameLayout((width, height), (0, top, view_w, view_h))


@dataclass(frozen=True)
class Section:
    """One legend of the panel.

    Attributes
    ----------
    title : str
    scale : StepScale or RampScale or None
        Classes or ramp; None for a section of ``rows`` only.
    rows : tuple of (str, str, str)
        Extra rows ``(kind, colour, label)``; kind ``"box"`` (a filled square), ``"line"`` (a line
        sample), ``"pin"`` (a marker) or ``"note"`` (the label alone, in ``colour``).
    columns : int
        Columns the rows are laid out in.
    changing : bool
        Changes from one frame of an animation to the next (drawn with the title's second line
        and the clock, :func:`draw_frame`'s ``part``).
    """

    title: str
    scale: StepScale | RampScale | None = None
    rows: tuple = ()
    columns: int = 1
    changing: bool = False


@dataclass(frozen=True)
class Compass:
    """Directions and lengths measured in the view.

    Attributes
    ----------
    north_deg : float or None
        Angle (degrees anticlockwise from the image's right) at which north points in the view;
        None where north points at the eye (a view straight down the y axis).
    scale_px : float
        Pixels per metre of ground at the view's centre, across the image.
    scale_note : str
        Where the scale holds (e.g. "at the centre of the view"; "" for a map).
    wind_deg : float or None
        Angle at which the wind blows in the view (the way it goes), None for no wind.
    wind_label : str
    """

    north_deg: float | None
    scale_px: float
    scale_note: str = ""
    wind_deg: float | None = None
    wind_label: str = ""


@dataclass(frozen=True)
class FrameText:
    """The words of the frame: a title, a second line (what is shown, the ensemble, the time), a
    credits line, the legend sections and, for an animation's frame, a clock (``01:30``)."""

    title: str
    subtitle: str
    credits: str
    sections: tuple = field(default_factory=tuple)
    clock: str = ""


def nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 times a power of ten (m) not above ``metres``."""
    power = 10.0 ** np.floor(np.log10(max(metres, 1e-9)))
    return max(m * power for m in (1, 2, 5) if m * power <= metres)


class _Painter:
    """Draws in figure pixels with y from the top of the image."""

    def __init__(self, fig: Figure, size: tuple[int, int]):
        self.fig, (self.w, self.h) = fig, size
        self.pt = self.h / 1080.0 * 13.0          # body text size (points) at this image height
        self.on = True                            # False: lay out without drawing

    def xy(self, col: float, row: float) -> tuple[float, float]:
        return col / self.w, 1.0 - row / self.h

    def text(self, col, row, s, size=1.0, **kw):
        if not self.on:
            return
        self.fig.text(*self.xy(col, row), s, fontsize=self.pt * size, color=kw.pop("color", INK),
                      va=kw.pop("va", "center"), **kw)

    def box(self, col, row, w, h, colour, edge="none", lw=0.0):
        if not self.on:
            return
        x, y = self.xy(col, row + h)
        self.fig.patches.append(Rectangle((x, y), w / self.w, h / self.h, transform=self.fig.transFigure,
                                          facecolor=colour, edgecolor=edge, linewidth=lw))

    def line(self, cols, rows, colour=INK, lw=1.0):
        if not self.on:
            return
        xs, ys = zip(*(self.xy(c, r) for c, r in zip(cols, rows)))
        self.fig.add_artist(Line2D(xs, ys, color=colour, linewidth=lw * self.h / 1080.0 * 1.5,
                                   solid_capstyle="butt"))

    def arrow(self, col, row, angle_deg, length, colour=INK):
        """An arrow centred on (col, row) pointing at ``angle_deg`` (anticlockwise from right)."""
        if not self.on:
            return
        a = np.radians(angle_deg)
        dx, dy = np.cos(a) * length, np.sin(a) * length
        x0, y0 = self.xy(col - dx / 2, row + dy / 2)
        self.fig.patches.append(FancyArrow(x0, y0, dx / self.w, dy / self.h, transform=self.fig.transFigure,
                                           width=0.10 * length / self.h, head_width=0.34 * length / self.h,
                                           head_length=0.34 * length / self.h, length_includes_head=True,
                                           color=colour))


def _compass(p: _Painter, left: float, top: float, width: float, compass: Compass) -> float:
    """North arrow, wind arrow and scale bar; returns the row below them."""
    size = 0.075 * p.h
    centre_row = top + 0.6 * size
    if compass.north_deg is not None:
        p.arrow(left + 0.5 * size, centre_row, compass.north_deg, size)
        p.text(left + size * 1.05, centre_row, "N", size=1.25, weight="bold")
    if compass.wind_deg is not None:
        wind_col = left + 2.1 * size
        p.arrow(wind_col, centre_row, compass.wind_deg, size, colour="#2166ac")
        p.text(wind_col + 0.65 * size, centre_row, compass.wind_label, size=0.9, color="#2166ac", wrap=True)
    row = top + 1.45 * size
    if compass.scale_px > 0:
        metres = nice_length(0.8 * width / compass.scale_px)
        bar = metres * compass.scale_px
        half = bar / 2
        thick = 0.012 * p.h
        p.box(left, row, half, thick, INK)
        p.box(left + half, row, half, thick, "white", edge=INK, lw=0.8)
        for frac, value in ((0, 0.0), (0.5, metres / 2), (1.0, metres)):
            label = f"{value / 1000:g} km" if metres >= 1000 else f"{value:g} m"
            p.text(left + frac * bar, row + 2.3 * thick, label if frac == 1.0 else f"{label.split()[0]}",
                   size=0.8, ha="center")
        row += 3.6 * thick
        if compass.scale_note:
            p.text(left, row, f"scale {compass.scale_note}", size=0.75, color="#555555")
            row += 0.03 * p.h
    return row + 0.015 * p.h


def _section(p: _Painter, left: float, top: float, width: float, section: Section) -> float:
    """One legend section; returns the row below it."""
    step = 0.029 * p.h
    swatch = 0.021 * p.h
    p.text(left, top + 0.5 * step, section.title, size=0.95, weight="bold")
    row = top + step * 1.1
    scale = section.scale
    if isinstance(scale, StepScale) and len(scale.labels) <= MAX_ROWS:
        for colour, label in zip(scale.colours, scale.labels):
            p.box(left, row + (step - swatch) / 2, 1.6 * swatch, swatch, colour, edge="#777777", lw=0.4)
            p.text(left + 2.1 * swatch, row + step / 2, label, size=0.85)
            row += step
    elif isinstance(scale, StepScale):
        n = len(scale.colours)
        cell = min(step * 0.55, 0.45 * p.h / n)
        for k, colour in enumerate(scale.colours):
            p.box(left, row + k * cell, 1.6 * swatch, cell, colour)
        every = max(1, int(np.ceil(n / MAX_ROWS)))
        for k in range(0, n, every):
            p.text(left + 2.1 * swatch, row + k * cell, scale.labels[k].split(" – ")[0], size=0.8)
        p.text(left + 2.1 * swatch, row + n * cell, scale.labels[-1].split(" – ")[-1], size=0.8)
        row += n * cell + step * 0.6
    elif isinstance(scale, RampScale):
        ramp = colormaps[scale.cmap]
        n = 64
        height = 4 * step
        for k in range(n):
            p.box(left, row + height * (1 - (k + 1) / n), 1.6 * swatch, height / n + 0.5, ramp(k / (n - 1)))
        norm = Normalize(scale.vmin, scale.vmax)
        for value in np.linspace(scale.vmin, scale.vmax, 5):
            p.text(left + 2.1 * swatch, row + height * (1 - norm(value)), f"{value:.3g}", size=0.8)
        row += height + step * 0.6
    column_width = width / section.columns
    for k, (kind, colour, label) in enumerate(section.rows):
        col = left + (k % section.columns) * column_width
        centre = row + step / 2
        if kind == "note":
            p.text(col, centre, label, size=0.78, color=colour)
        elif kind == "line":
            p.line([col, col + 1.6 * swatch], [centre, centre], colour, lw=1.2)
        elif kind == "pin":
            p.line([col + 0.8 * swatch, col + 0.8 * swatch], [centre + swatch / 2, centre - swatch / 4], colour)
            p.box(col + 0.55 * swatch, centre - swatch / 2, 0.5 * swatch, 0.5 * swatch, colour)
        else:
            p.box(col, row + (step - swatch) / 2, 1.6 * swatch, swatch, colour, edge="#777777", lw=0.4)
        if kind != "note":
            p.text(col + 2.1 * swatch, centre, label, size=0.85)
        if k % section.columns == section.columns - 1 or k == len(section.rows) - 1:
            row += step * (0.85 if kind == "note" else 1.0)
    return row + 0.45 * step


def draw_frame(layout: FrameLayout, text: FrameText, compass: Compass, part: str = "all") -> np.ndarray:
    """The frame as an RGBA image (uint8, height x width x 4), transparent over the view.

    Parameters
    ----------
    layout : FrameLayout
    text : FrameText
        Title, subtitle, credits and the legend sections, in panel order.
    compass : Compass
    part : {"all", "fixed", "changing"}
        Draw everything, or only what stays the same over an animation, or only what changes
        (the second line of the title, the clock and the sections marked ``changing``), each in
        its place: ``over(changing, fixed)`` (:func:`over`) is the whole frame.

    Returns
    -------
    numpy.ndarray
    """
    width, height = layout.size
    fig = Figure(figsize=(width / 100.0, height / 100.0), dpi=100)
    fig.patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    p = _Painter(fig, layout.size)
    fixed, changing = part in ("all", "fixed"), part in ("all", "changing")
    left, top, view_w, view_h = layout.view
    margin = 0.012 * width
    p.on = fixed
    p.box(0, 0, width, top, "white")
    p.box(0, top + view_h, width, height - top - view_h, "white")
    p.box(view_w, top, width - view_w, view_h, "white")
    p.line([view_w, view_w], [top, top + view_h], "#bbbbbb", lw=0.6)
    room = (view_w if text.clock else width) - 2 * margin
    needed = 0.62 * len(text.title) * 1.45 * p.pt * 100 / 72      # bold text: about 0.62 em a character
    p.text(margin, 0.34 * top, text.title, size=1.45 * min(1.0, room / max(needed, 1.0)), weight="bold")
    p.text(margin, height - (height - top - view_h) / 2, text.credits, size=0.7, color="#555555")
    col = view_w + margin
    inner = width - view_w - 2 * margin
    row = _compass(p, col, top + 0.01 * height, inner, compass)
    p.on = changing
    p.text(margin, 0.76 * top, text.subtitle, size=1.1)
    if text.clock:
        p.text(width - margin, 0.5 * top, text.clock, size=2.4, weight="bold", ha="right")
    for section in text.sections:
        p.on = changing if section.changing else fixed
        row = _section(p, col, row, inner, section)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """RGBA image ``top`` over RGBA image ``bottom`` (both uint8, the same size; the "over" operator)."""
    a = top[..., 3:4].astype(np.float32) / 255.0
    b = bottom[..., 3:4].astype(np.float32) / 255.0
    alpha = a + b * (1.0 - a)
    rgb = (top[..., :3] * a + bottom[..., :3] * b * (1.0 - a)) / np.maximum(alpha, 1e-6)
    return np.concatenate([rgb, alpha * 255.0], axis=-1).round().astype(np.uint8)


def compose_image(layout: FrameLayout, frame: np.ndarray, view: np.ndarray) -> np.ndarray:
    """The image: the rendered view (RGB, the view's size) in its place, the frame over it.

    Returns
    -------
    numpy.ndarray
        RGB uint8, height x width x 3.
    """
    width, height = layout.size
    left, top, view_w, view_h = layout.view
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    image[top:top + view_h, left:left + view_w] = view[:view_h, :view_w, :3]
    alpha = frame[..., 3:4].astype(np.float32) / 255.0
    return (frame[..., :3] * alpha + image * (1.0 - alpha)).round().astype(np.uint8)
