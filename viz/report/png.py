"""Matplotlib figures made without pyplot (no global state, no display) and embedded as PNG."""

from __future__ import annotations

import base64
import io

from matplotlib.figure import Figure

#: Resolution of the embedded PNGs (dots per inch); a 7-inch figure fills an A4 page's width.
DPI = 110


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure of ``width_in`` x ``height_in`` inches with a constrained layout."""
    return Figure(figsize=(width_in, height_in), layout="constrained")


def data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,…`` URI (Agg renderer)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
