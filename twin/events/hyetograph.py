"""A block hyetograph, and its form for the flood scenario's uniform rainfall.

A design storm is a series of blocks of constant intensity (m/s) between interval edges (s)
(Chow, Maidment & Mays 1988, section 14.4). The flood scenario's uniform rainfall
(``flood.rainfall: {times, intensity_mm_h}``, :class:`twin.hazards.flood.schema.UniformRainfall`)
is linear between strictly increasing times and zero outside them, so a jump between two blocks
cannot be written as it is: :meth:`Hyetograph.series` writes each inner edge as a ramp of
``ramp_s`` seconds centred on it. A ramp centred on the edge gains on one side of it exactly what
it loses on the other, so the depth of the storm is unchanged (to round-off) and each block keeps
its intensity outside the ramps; the depth to an inner edge differs from the blocks' by
``ramp_s * |jump| / 8``. The first and last edges are exact (rain starts at the first time and
stops after the last). Multiply by ``1 / twin.scenario.units.MM_PER_H`` for ``intensity_mm_h``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Width (s) of the ramp that writes a jump between two blocks in the flood scenario's form.
DEFAULT_RAMP_S = 1.0


@dataclass(frozen=True)
class Hyetograph:
    """Rain of constant intensity ``rates_m_s[k]`` on ``[edges_s[k], edges_s[k + 1])``.

    Attributes
    ----------
    edges_s : numpy.ndarray (n + 1,)
        Interval edges (s), strictly increasing, from 0.
    rates_m_s : numpy.ndarray (n,)
        Intensity (m/s) of each block, >= 0.
    """

    edges_s: np.ndarray
    rates_m_s: np.ndarray

    def __post_init__(self):
        edges = np.asarray(self.edges_s, dtype=np.float64)
        rates = np.asarray(self.rates_m_s, dtype=np.float64)
        if edges.ndim != 1 or rates.shape != (edges.size - 1,) or rates.size < 1:
            raise ValueError(f"a hyetograph needs n + 1 edges for n >= 1 blocks; found {edges.shape} and {rates.shape}")
        if edges[0] != 0 or np.any(np.diff(edges) <= 0):
            raise ValueError("hyetograph edges must start at 0 s and increase strictly")
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ValueError("hyetograph intensities must be finite and >= 0 m/s")
        object.__setattr__(self, "edges_s", edges)
        object.__setattr__(self, "rates_m_s", rates)

    def depth_m(self) -> float:
        """Total depth (m): the sum of intensity x block length."""
        return float(np.sum(self.rates_m_s * np.diff(self.edges_s)))

    def peak_m_s(self) -> float:
        """Highest block intensity (m/s)."""
        return float(self.rates_m_s.max())

    def scaled(self, factor: float) -> "Hyetograph":
        """The same storm with every intensity times ``factor`` (e.g. an areal reduction factor, -)."""
        return Hyetograph(self.edges_s, self.rates_m_s * factor)

    def series(self, ramp_s: float = DEFAULT_RAMP_S) -> tuple[np.ndarray, np.ndarray]:
        """The storm as a series linear between times, the flood scenario's uniform rainfall (module docstring).

        Parameters
        ----------
        ramp_s : float, optional
            Width (s) of the ramp across each inner edge; shorter than every block.

        Returns
        -------
        times_s, rates_m_s : numpy.ndarray
            Strictly increasing times (s) from 0 and intensities (m/s) at them: ``edges_s[0]``,
            then ``e - ramp_s/2, e + ramp_s/2`` for each inner edge ``e``, then ``edges_s[-1]``.
        """
        widths = np.diff(self.edges_s)
        if not 0 < ramp_s < widths.min():
            raise ValueError(f"ramp_s must be > 0 and shorter than the shortest block ({widths.min():g} s); "
                             f"found {ramp_s:g}")
        inner = self.edges_s[1:-1]
        times = np.concatenate([[self.edges_s[0]], np.column_stack([inner - ramp_s / 2, inner + ramp_s / 2]).ravel(),
                                [self.edges_s[-1]]])
        rates = np.repeat(self.rates_m_s, 2)
        return times, rates
