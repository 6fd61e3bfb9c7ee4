"""Per-cell risk statistics over an ensemble of hazard members, reduced as the members arrive.

:class:`RiskAccumulator` takes one member's hazard maps at a time, in any order, and
:meth:`RiskAccumulator.finalize` returns the risk maps (declared in :mod:`twin.risk.fields`):

* flood: probability that the maximum depth exceeds each threshold, mean and percentiles of the
  maximum depth, percentiles of the arrival time, probability of arrival within given times, and
  the probability of each Defra/Environment Agency hazard-rating class;
* fire: burn probability, percentiles of the arrival time, probability of arrival within given times.

Determinism. Member weights are turned into integers (:func:`integer_weights`), so every
probability is an exact integer sum whatever the order in which members are added. Means and
percentiles are computed in :meth:`~RiskAccumulator.finalize` from the per-member maps spilled to
disk, read back in member-index order. Results are therefore bit-identical for any arrival order.

Memory. Held in memory: one int64 map per probability field, and at finalize a block of rows of
every member's spilled map (see ``docs/risk.md`` for the bound). The per-member maps live on disk.

Percentiles follow the inverted-CDF definition (Hyndman & Fan 1996, definition 1, generalised to
weights): the ``q``-th percentile is the smallest member value ``x`` with ``P(X <= x) >= q/100``.
Never-reached cells count as an infinite arrival time, so an arrival percentile is NaN where fewer
than ``q`` % of the (weighted) members reached the cell.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from twin.core.classes import LANDCOVER
from twin.risk.vulnerability import RISK_CLASSES
from twin.core.errors import InputError, RunError
from twin.risk.fields import (ARRIVAL_PERCENTILES, DEPTH_PERCENTILES, HAZARD_CLASSES, declare_thresholds,
                              exceedance_name, hazard_class_name, within_name)

#: Member weights are quantised to multiples of 2**-WEIGHT_BITS of their total (exact integer sums).
WEIGHT_BITS = 40
#: Lower class boundaries of the hazard rating (dimensionless): low < 0.75 <= some < 1.25 <= most <= 2.0 < all.
HAZARD_RATING_BOUNDS = (0.75, 1.25, 2.0)
#: Depth (m) above which the debris factor of the simple rule is 1 (Defra/EA 2008, Table 2, urban column).
DEBRIS_DEPTH_M = 0.25
#: Debris factor by dominant land use and (depth, speed) band, Defra/EA (2008) Table 2:
#: columns d <= 0.25 m | 0.25 < d <= 0.75 m | d > 0.75 m or v > 2 m/s.
DEBRIS_BY_LAND_USE = {"pasture_arable": (0.0, 0.0, 0.5), "woodland": (0.0, 0.5, 1.0), "urban": (0.0, 1.0, 1.0)}
#: Land use of each land-cover class for the debris table (open water and bare ground as pasture/arable).
LAND_USE_OF_LANDCOVER = {"water": "pasture_arable", "road": "urban", "building": "urban", "grass": "pasture_arable",
                         "forest": "woodland", "bare": "pasture_arable", "urban_open": "urban"}
#: Bytes per member and cell that :meth:`RiskAccumulator.finalize` works with at its peak: stacked
#: float32 value, int64 sort order, int64 weights in sort order, int64 cumulative weights, comparison.
FINALIZE_BYTES_PER_MEMBER_CELL = 4 + 8 + 8 + 8 + 1


def integer_weights(weights, n_members: int) -> np.ndarray:
    """Member weights as int64, so that weighted sums are exact and independent of order.

    Parameters
    ----------
    weights : sequence of float or None
        Non-negative member weights (any scale); None for equal weights.
    n_members : int
        Number of members.

    Returns
    -------
    numpy.ndarray of int64, shape (n_members,)
        Ones for equal weights (sums are member counts); otherwise ``round(w / sum(w) * 2**40)``.
        The quantisation changes a probability by less than ``n_members * 2**-41``.

    Raises
    ------
    InputError
        Wrong length, negative or non-finite weights, or weights summing to zero.
    """
    if n_members < 1:
        raise InputError("an ensemble needs at least one member", field="n_members", found=str(n_members))
    if weights is None:
        return np.ones(n_members, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_members,):
        raise InputError("member weights: one weight per member", field="weights",
                         expected=f"{n_members} values", found=f"shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError("member weights must be finite, non-negative and not all zero", field="weights",
                         found=str(w.tolist()))
    return np.rint(w / w.sum() * 2.0**WEIGHT_BITS).astype(np.int64)


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, qs) -> list[np.ndarray]:
    """Inverted-CDF percentiles over axis 0 (members) with integer weights.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_members, ...)
        Member values (``inf`` allowed, sorts last; no NaN).
    weights : numpy.ndarray of int64, shape (n_members,)
        Integer member weights (:func:`integer_weights`).
    qs : sequence of int
        Percentiles in percent, each ``0 < q <= 100``.

    Returns
    -------
    list of numpy.ndarray, shape ``values.shape[1:]``
        For each ``q``, the smallest member value ``x`` with ``sum(w[values <= x]) * 100 >= q * sum(w)``
        (Hyndman & Fan 1996, definition 1), found in exact integer arithmetic. Ties are broken by
        member index, so the result does not depend on the order of the members along axis 0.
    """
    for q in qs:
        if not (isinstance(q, (int, np.integer)) and 0 < q <= 100):
            raise InputError("percentile must be an integer in (0, 100]", field="percentile", found=str(q))
    order = np.argsort(values, axis=0, kind="stable")
    cum = np.cumsum(weights[order], axis=0)
    ordered = np.take_along_axis(values, order, axis=0)
    del order
    total = int(weights.sum())
    # cum * 100 >= q * total  <=>  cum >= ceil(q * total / 100), cum being an integer
    return [np.take_along_axis(ordered, np.expand_dims(np.argmax(cum >= -(-q * total // 100), axis=0), 0),
                               axis=0)[0] for q in qs]


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over axis 0 (members), ``sum(w_i x_i) / sum(w_i)``.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_members, ...)
        Member values (any units; the result has the same).
    weights : numpy.ndarray of int64, shape (n_members,)
        Integer member weights (:func:`integer_weights`).

    Returns
    -------
    numpy.ndarray of float64, shape ``values.shape[1:]``
        Summed element by element in member order, so the result does not depend on how the
        cells are blocked (a BLAS product would).
    """
    total = np.zeros(values.shape[1:])
    for w, x in zip(weights, values):
        total += float(w) * x
    return total / int(weights.sum())


def debris_factor(depth: np.ndarray, speed: np.ndarray, landcover: np.ndarray | None = None) -> np.ndarray:
    """Debris factor DF of the flood hazard rating (dimensionless).

    Parameters
    ----------
    depth : numpy.ndarray
        Water depth d (m).
    speed : numpy.ndarray
        Flow speed v (m/s).
    landcover : numpy.ndarray of int, optional
        Land-cover codes (:data:`twin.core.classes.LANDCOVER`). None: the simple rule DF = 0 for
        d <= 0.25 m, else 1 (the urban column of Defra/EA 2008, Table 2). Given: Defra/EA (2008)
        Table 2 by land use (:data:`DEBRIS_BY_LAND_USE`, :data:`LAND_USE_OF_LANDCOVER`), bands
        d <= 0.25 m, 0.25 < d <= 0.75 m, d > 0.75 m or v > 2 m/s; DF = 0 where d = 0.

    Returns
    -------
    numpy.ndarray of float64
        DF, 0, 0.5 or 1.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if landcover is None:
        return np.where(depth > DEBRIS_DEPTH_M, 1.0, 0.0)
    table = np.tile(np.array(DEBRIS_BY_LAND_USE["urban"]), (max(LANDCOVER.values()) + 1, 1))
    for name, use in LAND_USE_OF_LANDCOVER.items():
        table[LANDCOVER[name]] = DEBRIS_BY_LAND_USE[use]
    band = np.where((depth > 0.75) | (np.asarray(speed) > 2.0), 2, np.where(depth > DEBRIS_DEPTH_M, 1, 0))
    return np.where(depth > 0, table[np.asarray(landcover), band], 0.0)


def hazard_rating(depth: np.ndarray, speed: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Flood hazard rating to people, HR = d (v + 0.5) + DF (dimensionless).

    Defra/Environment Agency R&D FD2320/TR2 (HR Wallingford et al. 2006), section 13, and the
    Supplementary Note on flood hazard ratings (Defra/EA 2008), section 2.

    Parameters
    ----------
    depth : numpy.ndarray
        Water depth d (m).
    speed : numpy.ndarray
        Flow speed v (m/s).
    df : numpy.ndarray
        Debris factor (:func:`debris_factor`).

    Returns
    -------
    numpy.ndarray of float64
        HR. With per-member *maxima* of depth and speed this is an upper bound of the member's peak
        HR: the two maxima need not occur at the same time.
    """
    return np.asarray(depth, dtype=np.float64) * (np.asarray(speed, dtype=np.float64) + 0.5) + df


def hazard_class(hr: np.ndarray) -> np.ndarray:
    """Hazard-to-people class of a hazard rating (FD2320/TR2 Table 13.1; Defra/EA 2008 Table 1).

    Parameters
    ----------
    hr : numpy.ndarray
        Hazard rating (dimensionless).

    Returns
    -------
    numpy.ndarray of int8
        0 low (HR < 0.75), 1 danger for some (0.75 <= HR < 1.25), 2 danger for most
        (1.25 <= HR <= 2.0), 3 danger for all (HR > 2.0). The published table gives "< 0.75" and
        "> 2.0"; the inner boundaries 0.75 and 1.25 belong to the higher class, 2.0 to the lower.
    """
    b_some, b_most, b_all = HAZARD_RATING_BOUNDS
    return ((hr >= b_some).astype(np.int8) + (hr >= b_most) + (hr > b_all)).astype(np.int8)


class RiskAccumulator:
    """Reduce hazard members to per-cell risk maps, with memory that does not grow with members.

    Parameters
    ----------
    hazard : {"flood", "fire"}
        Which maps each member brings: flood ``max_depth`` (m), ``max_speed`` (m/s),
        ``arrival_time`` (s, NaN never wet); fire ``arrival_time`` (s, NaN not reached), ``burned``.
    shape : tuple of int
        Grid shape ``(ny, nx)``.
    n_members : int
        Ensemble size (member indices are ``0 .. n_members - 1``).
    thresholds_m : sequence of float
        Flood depth thresholds (m); a threshold is exceeded when ``max_depth > threshold``.
    arrival_within_s : sequence of float
        Horizons (s) for the probability that the hazard arrives at or before them.
    weights : sequence of float, optional
        Member weights (any scale); equal by default.
    spill_dir : str or Path, optional
        Folder for the spilled per-member maps (a private subfolder is made in it and removed by
        :meth:`close`); default: the system temporary folder.
    mask : numpy.ndarray of bool, optional
        Cells inside the domain; outside, maps are not checked and the risk maps are NaN.
    landcover : numpy.ndarray of int, optional
        Land-cover codes for the land-use debris-factor table (:func:`debris_factor`).
    block_bytes : int
        Working memory (bytes) of :meth:`finalize` for the row blocks of the spilled maps.
    """

    def __init__(self, hazard: str, shape: tuple[int, int], n_members: int,
                 thresholds_m=(0.1, 0.3, 0.5, 1.0), arrival_within_s=(3600, 10800), weights=None,
                 spill_dir: str | Path | None = None, *, mask: np.ndarray | None = None,
                 landcover: np.ndarray | None = None, block_bytes: int = 64 * 2**20):
        if hazard not in ("flood", "fire"):
            raise InputError("unknown hazard", field="hazard", expected="flood or fire", found=repr(hazard))
        self.hazard = hazard
        self.shape = tuple(int(s) for s in shape)
        self.n_members = int(n_members)
        self.weights = integer_weights(weights, self.n_members)
        self.thresholds_m = tuple(float(t) for t in (thresholds_m if hazard == "flood" else ()))
        self.arrival_within_s = tuple(float(t) for t in arrival_within_s)
        for name, values in (("thresholds_m", self.thresholds_m), ("arrival_within_s", self.arrival_within_s)):
            if any(not np.isfinite(v) or v < 0 for v in values):
                raise InputError("thresholds must be finite and non-negative", field=name, found=str(values))
        names = self._count_names()
        if len(set(names)) < len(names):
            raise InputError("thresholds repeat (or agree to 6 significant digits)", field="thresholds_m",
                             found=str(names))
        declare_thresholds(self.thresholds_m, self.arrival_within_s)
        self.mask = np.ones(self.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
        self.landcover = landcover
        self.block_bytes = int(block_bytes)
        self._dir = Path(tempfile.mkdtemp(prefix=f"risk-{hazard}-", dir=spill_dir))
        self._added = np.zeros(self.n_members, dtype=bool)
        self._counts = {name: np.zeros(self.shape, dtype=np.int64) for name in names}

    def _count_names(self) -> list[str]:
        names = [within_name(t) for t in self.arrival_within_s]
        if self.hazard == "flood":
            return [exceedance_name(t) for t in self.thresholds_m] + \
                [hazard_class_name(c) for c in HAZARD_CLASSES] + names
        return ["burn_probability"] + names

    def _spilled(self) -> tuple[str, ...]:
        return ("max_depth", "arrival_time") if self.hazard == "flood" else ("arrival_time",)

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
        need = ("max_depth", "max_speed", "arrival_time") if self.hazard == "flood" else ("arrival_time", "burned")
        missing = [k for k in need if k not in maps]
        if missing:
            raise RunError(f"member {member}: {self.hazard} maps lack {', '.join(missing)}")
        out = {}
        for name in need:
            a = np.asarray(maps[name], dtype=np.float64)
            if a.shape != self.shape:
                raise RunError(f"member {member}: {name} has shape {a.shape}, the grid is {self.shape}")
            if name == "arrival_time":
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
            Hazard maps ``(ny, nx)`` in SI units (see the class description).

        Raises
        ------
        RunError
            A map missing, of the wrong shape, or with NaN/negative values inside the domain; an
            index out of range or added twice.
        """
        m = self._checked(member_index, maps)
        w = self.weights[member_index]
        arrival = np.where(np.isnan(m["arrival_time"]), np.inf, m["arrival_time"])
        hits = {within_name(t): arrival <= t for t in self.arrival_within_s}
        if self.hazard == "flood":
            d, v = m["max_depth"], m["max_speed"]
            hits.update({exceedance_name(t): d > t for t in self.thresholds_m})
            cls = hazard_class(hazard_rating(d, v, debris_factor(d, v, self.landcover)))
            hits.update({hazard_class_name(c): cls == k for k, c in enumerate(HAZARD_CLASSES)})
            np.save(self._spill_path("max_depth", member_index), d.astype(np.float32))
        else:
            hits["burn_probability"] = m["burned"] != 0
        np.save(self._spill_path("arrival_time", member_index), arrival.astype(np.float32))
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
            Field name (declared in :mod:`twin.risk.fields`) -> map. Probabilities are in [0, 1];
            depths in m; times in s. Spilled maps are read back in blocks of rows so that
            ``n_members_used * block_rows * nx * 29`` bytes stay within ``block_bytes``
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
        stats = [f"arrival_time_p{p}" for p in ARRIVAL_PERCENTILES]
        if self.hazard == "flood":
            stats += ["max_depth_mean"] + [f"max_depth_p{p}" for p in DEPTH_PERCENTILES]
        out.update({name: np.empty(self.shape) for name in stats})
        ny, nx = self.shape
        rows = max(1, self.block_bytes // (used.size * nx * FINALIZE_BYTES_PER_MEMBER_CELL))
        for name in self._spilled():
            files = [np.load(self._spill_path(name, i), mmap_mode="r") for i in used]
            for r0 in range(0, ny, rows):
                block = slice(r0, min(ny, r0 + rows))
                stack = np.stack([f[block] for f in files])
                if name == "arrival_time":
                    for p, t in zip(ARRIVAL_PERCENTILES, weighted_percentiles(stack, w, ARRIVAL_PERCENTILES)):
                        out[f"arrival_time_p{p}"][block] = np.where(np.isinf(t), np.nan, t)
                else:
                    out["max_depth_mean"][block] = weighted_mean(stack, w)
                    for p, d in zip(DEPTH_PERCENTILES, weighted_percentiles(stack, w, DEPTH_PERCENTILES)):
                        out[f"max_depth_p{p}"][block] = d
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


def risk_summary(maps: dict[str, np.ndarray], cell_area_m2: float, members_used: int,
                 buildings: dict[str, np.ndarray] | None = None) -> dict:
    """The risk part of ``summary.json``.

    Parameters
    ----------
    maps : dict
        Risk maps from :meth:`RiskAccumulator.finalize`.
    cell_area_m2 : float
        Area of one cell (m^2).
    members_used : int
        Members the statistics are over.
    buildings : dict, optional
        Per-building columns (:meth:`twin.risk.exposure.BuildingRiskAccumulator.finalize`).

    Returns
    -------
    dict
        ``members_used``; flood: ``expected_area_by_hazard_class_m2`` (sum over cells of the class
        probability times the cell area) and ``expected_area_depth_over_m2`` by threshold; fire:
        ``expected_burned_area_m2``; with buildings: ``buildings``, ``buildings_by_risk_class``,
        ``expected_flood_loss_krw``, ``expected_fire_loss_krw``, ``expected_total_loss_krw``.
    """
    def area(name):
        return float(np.nansum(maps[name]) * cell_area_m2)

    out: dict = {"members_used": int(members_used)}
    if hazard_class_name(HAZARD_CLASSES[0]) in maps:
        out["expected_area_by_hazard_class_m2"] = {c: area(hazard_class_name(c)) for c in HAZARD_CLASSES}
        out["expected_area_depth_over_m2"] = {k: area(k) for k in maps if k.startswith("p_depth_over_")}
    if "burn_probability" in maps:
        out["expected_burned_area_m2"] = area("burn_probability")
    if buildings is not None:
        losses = {k: float(np.sum(buildings[k])) for k in ("expected_flood_loss_krw", "expected_fire_loss_krw")
                  if k in buildings}
        out["buildings"] = int(len(buildings["building_id"]))
        out["buildings_by_risk_class"] = {c: int(np.sum(buildings["risk_class"] == k))
                                          for k, c in enumerate(RISK_CLASSES)}
        out.update(losses)
        out["expected_total_loss_krw"] = float(sum(losses.values()))
    return out
