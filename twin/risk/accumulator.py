"""Per-cell risk statistics over an ensemble of hazard members, reduced as the members arrive.

:class:`RiskAccumulator` takes one member's hazard maps at a time, in any order, and
:meth:`RiskAccumulator.finalize` returns the risk maps a hazard's :class:`twin.risk.spec.RiskSpec`
declares: probabilities counted member by member (exceedance, arrival within a time, occurrence,
class probabilities) and distributions (percentiles, means) over the members' spilled maps.

Determinism. Member weights are integers (:func:`twin.risk.statistics.integer_weights`), so every
probability is an exact integer sum whatever the order in which members are added. Means and
percentiles are computed in :meth:`~RiskAccumulator.finalize` from the per-member maps spilled to
disk, read back in member-index order. Results are therefore bit-identical for any arrival order.

Memory. Held in memory: one int64 map per probability field, and at finalize a block of rows of
every member's spilled map (see ``docs/risk.md`` for the bound). The per-member maps live on disk.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from twin.core.errors import RunError
from twin.risk.spec import RiskSpec
from twin.risk.statistics import integer_weights, weighted_mean, weighted_percentiles

#: Bytes per member and cell that :meth:`RiskAccumulator.finalize` works with at its peak: stacked
#: float32 value, int64 sort order, int64 weights in sort order, int64 cumulative weights, comparison.
FINALIZE_BYTES_PER_MEMBER_CELL = 4 + 8 + 8 + 8 + 1


class RiskAccumulator:
    """Reduce hazard members to per-cell risk maps, with memory that does not grow with members.

    Parameters
    ----------
    spec : RiskSpec
        The hazard's risk: which maps a member brings and the statistics (e.g.
        ``get_hazard("flood").risk``).
    shape : tuple of int
        Grid shape ``(ny, nx)``.
    n_members : int
        Ensemble size (member indices are ``0 .. n_members - 1``).
    weights : sequence of float, optional
        Member weights (any scale); equal by default.
    spill_dir : str or Path, optional
        Folder for the spilled per-member maps (a private subfolder is made in it and removed by
        :meth:`close`); default: the system temporary folder.
    mask : numpy.ndarray of bool, optional
        Cells inside the domain; outside, maps are not checked and the risk maps are NaN.
    landcover : numpy.ndarray of int, optional
        Land-cover codes, for statistics that depend on them (the flood debris factor).
    block_bytes : int
        Working memory (bytes) of :meth:`finalize` for the row blocks of the spilled maps.
    """

    def __init__(self, spec: RiskSpec, shape: tuple[int, int], n_members: int, weights=None,
                 spill_dir: str | Path | None = None, *, mask: np.ndarray | None = None,
                 landcover: np.ndarray | None = None, block_bytes: int = 64 * 2**20):
        self.spec = spec
        self.shape = tuple(int(s) for s in shape)
        self.n_members = int(n_members)
        self.weights = integer_weights(weights, self.n_members)
        self.mask = np.ones(self.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
        self.landcover = landcover
        self.block_bytes = int(block_bytes)
        self._dir = Path(tempfile.mkdtemp(prefix="risk-", dir=spill_dir))
        self._added = np.zeros(self.n_members, dtype=bool)
        self._counts = {name: np.zeros(self.shape, dtype=np.int64) for name in spec.count_names()}

    def _spill_path(self, name: str, member: int) -> Path:
        return self._dir / f"{name}_{member:06d}.npy"

    def held_bytes(self) -> int:
        """Bytes of the arrays the accumulator holds between members (independent of the member count)."""
        return sum(a.nbytes for a in self._counts.values()) + self.mask.nbytes + self._added.nbytes

    @property
    def members_used(self) -> int:
        """Number of members added so far."""
        return int(self._added.sum())

    def _checked(self, member: int, maps: dict) -> dict:
        """The member's maps as float64 arrays, after checks; raises RunError naming the member and map."""
        if not (0 <= member < self.n_members):
            raise RunError(f"member index {member} outside 0..{self.n_members - 1}")
        if self._added[member]:
            raise RunError(f"member {member} was added twice")
        need = self.spec.member_maps
        missing = [k for k in need if k not in maps]
        if missing:
            raise RunError(f"member {member}: the maps lack {', '.join(missing)}")
        out = {}
        for name in need:
            a = np.asarray(maps[name], dtype=np.float64)
            if a.shape != self.shape:
                raise RunError(f"member {member}: {name} has shape {a.shape}, the grid is {self.shape}")
            if name in self.spec.nan_means_never:
                bad = self.mask & ~(np.isnan(a) | ((a >= 0) & np.isfinite(a)))
            else:
                bad = self.mask & ~(np.isfinite(a) & (a >= 0))
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise RunError(f"member {member}: {name} has {int(bad.sum())} NaN, infinite or negative cells "
                               f"inside the domain (first {a[r, c]} at row {r}, col {c})")
            out[name] = a
        return out

    def add(self, member_index: int, maps: dict) -> None:
        """Add one member's hazard maps (any order of members gives the same result).

        Parameters
        ----------
        member_index : int
            The member's index, ``0 <= member_index < n_members``; each index once.
        maps : dict
            Hazard maps ``(ny, nx)`` in SI units (``spec.member_maps``).

        Raises
        ------
        RunError
            A map missing, of the wrong shape, or with NaN/negative values inside the domain; an
            index out of range or added twice.
        """
        m = self._checked(member_index, maps)
        w = self.weights[member_index]
        hits = {}
        for statistic in self.spec.probabilities:
            hits.update(statistic.hits(m, self.landcover))
        for dist in self.spec.distributions:
            values = m[dist.map]
            if dist.nan_is_never:
                values = np.where(np.isnan(values), np.inf, values)
            np.save(self._spill_path(dist.map, member_index), values.astype(np.float32))
        for name, hit in hits.items():
            np.add(self._counts[name], w, out=self._counts[name], where=hit)
        self._added[member_index] = True

    def finalize(self, allow_missing: bool = False) -> dict[str, np.ndarray]:
        """The risk maps (float64, ``(ny, nx)``, NaN outside the mask), from the members added.

        Parameters
        ----------
        allow_missing : bool
            Accept members that were never added (e.g. failed); statistics are then over the members
            used, with their weights renormalised.

        Returns
        -------
        dict
            Field name (declared in ``spec.fields``) -> map: the probabilities (in [0, 1]), then
            the distributions (units of their maps). Spilled maps are read back in blocks of rows
            so that ``n_members_used * block_rows * nx * 29`` bytes stay within ``block_bytes``
            (:data:`FINALIZE_BYTES_PER_MEMBER_CELL`), or one row when that is more.

        Raises
        ------
        RunError
            No member added, or members missing without ``allow_missing``.
        """
        used = np.flatnonzero(self._added)
        missing = np.flatnonzero(~self._added)
        if used.size == 0:
            raise RunError("no ensemble member was added; there is nothing to reduce")
        if missing.size and not allow_missing:
            raise RunError(f"{missing.size} of {self.n_members} members were not added (first: "
                           f"{missing[:5].tolist()})")
        w = self.weights[used]
        total = int(w.sum())
        out = {name: c / total for name, c in self._counts.items()}
        out.update({name: np.empty(self.shape) for d in self.spec.distributions for name in d.names()})
        ny, nx = self.shape
        rows = max(1, self.block_bytes // (used.size * nx * FINALIZE_BYTES_PER_MEMBER_CELL))
        for dist in self.spec.distributions:
            files = [np.load(self._spill_path(dist.map, i), mmap_mode="r") for i in used]
            for r0 in range(0, ny, rows):
                block = slice(r0, min(ny, r0 + rows))
                stack = np.stack([f[block] for f in files])
                if dist.mean:
                    out[f"{dist.map}_mean"][block] = weighted_mean(stack, w)
                for p, v in zip(dist.percentiles, weighted_percentiles(stack, w, dist.percentiles)):
                    out[f"{dist.map}_p{p}"][block] = np.where(np.isinf(v), np.nan, v) if dist.nan_is_never else v
                del stack
        for a in out.values():
            a[~self.mask] = np.nan
        return out

    def close(self) -> None:
        """Delete the spilled maps (the accumulator cannot be finalized afterwards)."""
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
