"""The alternating block method: a design hyetograph from an IDF relation.

Chow, Maidment & Mays (1988), Applied Hydrology, section 14.4: for blocks of length dt, the
depth of the most intense j dt is ``P_j = i(j dt) * j dt`` (i from the IDF relation at that
duration), the increments ``P_j - P_(j-1)`` are the blocks, and the blocks are arranged with the
largest at the centre and the rest in decreasing order alternately to its right and left. The
storm's depth is ``P_n = i(n dt) * n dt``, and its most intense block is ``i(dt)`` (the IDF
intensity at the block's duration). The centre is block ``(n - 1) // 2`` (0-based): the middle
block for an odd n, the one before the middle for an even n, so that the right side, served
first, gets the extra block.
"""

from __future__ import annotations

import numpy as np

from twin.events.hyetograph import Hyetograph


def block_order(n: int) -> np.ndarray:
    """Positions (0-based) of the blocks ranked by size: centre, then alternately right and left."""
    centre = (n - 1) // 2
    offsets = np.arange(1, n)
    sides = np.where(offsets % 2 == 1, (offsets + 1) // 2, -(offsets // 2))
    return np.concatenate([[centre], centre + sides])


def alternating_block(block_s: float, intensity_m_s: np.ndarray) -> Hyetograph:
    """The alternating block hyetograph from IDF intensities at block multiples.

    Parameters
    ----------
    block_s : float
        Block length dt (s), > 0.
    intensity_m_s : numpy.ndarray (n,)
        IDF intensity (m/s) at durations dt, 2 dt, ..., n dt (n dt is the storm duration).

    Returns
    -------
    Hyetograph
        n blocks of dt; intensities (P_j - P_(j-1)) / dt arranged as in the module docstring.

    Raises
    ------
    ValueError
        Where a longer duration holds less depth than a shorter one (a block would be negative).
    """
    i = np.asarray(intensity_m_s, dtype=np.float64)
    if not block_s > 0 or i.ndim != 1 or i.size < 1:
        raise ValueError("need a block length > 0 s and at least one intensity")
    n = i.size
    depth = i * block_s * np.arange(1, n + 1)
    increments = np.diff(depth, prepend=0.0)
    if np.any(increments < 0):
        k = int(np.flatnonzero(increments < 0)[0])
        raise ValueError(f"the IDF depth decreases from {k} to {k + 1} blocks of {block_s:g} s")
    rates = np.empty(n)
    rates[block_order(n)] = np.sort(increments)[::-1] / block_s
    return Hyetograph(np.arange(n + 1) * block_s, rates)
