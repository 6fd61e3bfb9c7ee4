"""The memory and disk a whole run needs, estimated before it runs, and the check that it fits.

:func:`twin.core.citytwin.check_memory` counts the twin and one flood loop (``TWIN_BYTES_PER_CELL +
RUN_BYTES_PER_CELL`` bytes a cell). A run holds much more at its peak: the depth (or burned-area)
snapshots of the control run are kept in memory until ``hazard.nc`` is written (they are not
streamed: :func:`twin.hazards.flood.model.simulate_flood` allocates ``(n_snapshots, ny, nx)`` float32,
:func:`twin.hazards.fire.model.simulate_fire` stacks one bool map per snapshot), the control result,
the risk maps and the twin stay referenced in :func:`twin.pipeline.run.run_scenario` until the run
folder is complete, the Dataset :func:`twin.io.outputs.result_dataset` builds for a file sits in a
reference cycle (its cached ``.rio`` accessor refers back to it), so the float64 maps made for
``hazard.nc`` stay allocated until Python's cyclic collector runs (they are no longer deep-copied:
``write_crs`` / ``write_transform`` are called with ``inplace=True``), HDF5 keeps a chunk
cache per compressed variable until a netCDF file is closed, and the renderings load the whole
run folder back and build grid meshes. :func:`estimate_run` follows the run phase by phase,
adds up what each phase holds, and returns the peak (:class:`Budget`) with its named parts and
the disk bytes of the outputs; :func:`check_run_fits` turns a budget that does not fit into an
:class:`~twin.core.errors.InputError`.

Every byte count below says where it comes from: the array's dtype in the code (file and
function named), or a measurement (``bench/memory_peak.py``, ``bench/README.md``, "Memory:
estimate against measured peak"; peak resident set size of the whole process tree). The
measured constants are those of the development machine's library versions (numpy 2.2,
xarray 2026.9, netCDF-C 4.10, VTK through pyvista 0.49, dask 2026.11) and glibc's allocator;
rerun the benchmark after upgrading them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from twin.core.errors import InputError
from twin.core.grid import Grid
from twin.ensemble.draws import is_ensemble
from twin.hazards.registry import HAZARDS, HazardRegistry, get_hazard
from twin.scenario.schema import ScenarioFile

MiB = 2**20
GiB = 2**30

#: Bytes per cell of a loaded twin: the declared fields of :data:`twin.core.fields.TWIN_FIELDS`
#: (elevation, building_height, manning_n float64; building_id int32; fuel_model int16;
#: building_use, landcover, domain_mask int8): 8 + 8 + 8 + 4 + 2 + 1 + 1 + 1.
TWIN_BYTES_PER_CELL = 33
#: Peak bytes per cell while the twin loads (:func:`twin.core.citytwin.load_twin`): the rasters as
#: read (:mod:`twin.core.rasters`), the temporaries of :func:`twin.core.citytwin.build_dataset` and the
#: deep copy its ``rio.write_crs`` makes. Measured with ``tracemalloc`` on the 2000 x 2000
#: sample city: 576 MiB for 4e6 cells.
LOAD_PEAK_BYTES_PER_CELL = 151
#: Deep copies of every map and snapshot that :func:`twin.io.outputs.result_dataset` makes: none,
#: since ``ds.rio.write_crs`` and ``ds.rio.write_transform`` are called with ``inplace=True``.
#: (Without it each returns ``Dataset.copy(deep=True)``, and the copies sat in reference cycles
#: until Python's cyclic collector ran: 2 copies were measured, ``bench/README.md``.) Remeasured
#: with the fix (bench/memory_peak.py, 2026-12-07): the 2000 x 2000 flash flood peaked at 2029 MiB
#: instead of 3278 MiB, the 500 x 500 floods at 456 instead of 549 MiB. The Dataset itself still
#: sits in a reference cycle after the file is written (a weakref to it stays alive after ``del``
#: until ``gc.collect()``), so its maps are still counted as held (``hazard.nc maps``).
RESULT_DATASET_COPIES = 0
#: Working memory (bytes) of :meth:`twin.risk.accumulator.RiskAccumulator.finalize` for the row blocks of the
#: spilled maps (its ``block_bytes`` default).
RISK_FINALIZE_BLOCK_BYTES = 64 * MiB
#: Bytes per cell of the building table and its accumulator (:func:`twin.risk.exposure.building_table`:
#: footprint and ring cells as int64 pairs, ``np.unique`` of the pairs). Measured on the 2000 x
#: 2000 sample city (20 % of cells are buildings): 169 MiB for 4e6 cells.
BUILDING_TABLE_BYTES_PER_CELL = 45
#: Bytes per cell the building table keeps after :func:`twin.risk.exposure.building_table` returns
#: (its temporaries are freed before the risk accumulators exist, so the peak above does not add
#: to them): ``tracemalloc`` on the 500 x 500 sample city, 10.3 bytes a cell kept (66 at the peak).
#: Counted this way since the 5000 x 5000 run measured after the in-place fix (risk reduction
#: 8578 MiB, where adding the table's peak to the accumulators' gave 11412 MiB, 1.29 of the run).
BUILDING_TABLE_KEPT_BYTES_PER_CELL = 11
#: netCDF-C's HDF5 chunk cache per variable (``netCDF4.get_chunk_cache()``: 64 MiB), which keeps
#: the chunks of each compressed variable until the file is closed, so a file with V variables
#: holds up to ``V x min(64 MiB, variable size)`` while it is written; measured on top: 48 MiB
#: (one variable of 500^2 to 5000^2 cells up to 16, zlib level 4, RSS sampled every 1 ms; e.g. four
#: float64 variables of 5000^2: +312 MiB = 4 x 64 + 56; sixteen of 500^2: +64 MiB).
NETCDF_CHUNK_CACHE_BYTES = 64 * MiB
NETCDF_WRITE_BYTES = 48 * MiB
#: Resident bytes of the driver process before any grid-sized array: the interpreter, numpy,
#: xarray, rasterio, numba's compiled kernels, netCDF4, dask. Fitted on ``twin run`` of the
#: 500 x 500 sample scenarios (bench/memory_peak.py: their risk.nc phase peaked at 549 MiB while
#: result_dataset deep-copied, of which the grid-sized arrays of this model were about 260 MiB).
#: Rechecked after the in-place fix: the flash and river flood peak at 455 MiB at risk.nc, of
#: which this model's grid-sized arrays are about 150 MiB (so about 305 MiB are the libraries);
#: the 500 x 500 estimates are then 1.09-1.14 times the measured peaks, so the value is kept.
DRIVER_BASE_BYTES = 330 * MiB
#: Resident bytes the renderings add before any grid-sized mesh: pyvista/VTK, the offscreen
#: OpenGL context (Mesa llvmpipe) and its 1920 x 1080 buffers, trame's serializers. With
#: :data:`RENDER_BYTES_PER_CELL` fitted (two points, then a margin of about 5 %) on the flash
#: flood with rendering at 500 x 500 (peak 1130 MiB) and 2000 x 2000 (5005 MiB); rechecked after
#: result_dataset stopped copying (1122 and 5074 MiB: estimates 1.09 and 1.11 times those).
RENDER_BASE_BYTES = 560 * MiB
#: Bytes per cell the renderings add at their peak (the HTML export): the run folder loaded
#: again (:func:`viz.run_data.load_run`: twin.nc, hazard.nc maps, risk.nc), the terrain and
#: layer meshes (:func:`viz.meshes.grid_surface`: int64 quads, float64 points, VTK cell arrays,
#: normals, OpenGL buffers) and the vtk.js archive, together with whatever the earlier phases
#: left uncollected. Fitted (see :data:`RENDER_BASE_BYTES`); snapshots are counted apart.
#: Not measured above 2000 x 2000 cells.
RENDER_BYTES_PER_CELL = 880
#: Resident bytes of one dask worker process and its nanny before any grid (imports, twin
#: package, numba kernels; ``LocalCluster(processes=True)``): the process tree of the 500 x 500
#: ensemble runs held about 640 MiB more than the driver for 2 workers (bench/memory_peak.py).
WORKER_BASE_BYTES = 300 * MiB
#: Disk bytes per cell of the GeoTIFFs (float32, upper bound without compression, overviews
#: add a third): 4 x 4 / 3.
COG_BYTES_PER_CELL = 16 / 3 + 0.01
#: Disk bytes per cell of buildings.csv, buildings.geojson and buildings.gpkg together, measured
#: on the sample city's flash flood (500 x 500 cells of 5 m, 4080 buildings; 2026-12-08): 438 kB +
#: 3326 kB + 1335 kB = 5.10 MB for 2.5e5 cells, 20.4 a cell; counted as 21. (Per cell it falls with
#: the cell size: the 2000 x 2000 city of 1.25 m cells wrote 2.5 a cell before the gpkg and the
#: risk columns were added.)
BUILDING_FILES_BYTES_PER_CELL = 21
#: Disk bytes of report.html: a base (its images are of a fixed size in pixels, but compress
#: better on small grids) and a share per cell. Measured 2026-12-08: 256-276 kB on the 40 x 60
#: valley of the tests, 1.32 MB on the 500 x 500 sample flash flood (4.2 B a cell above the base);
#: counted as 512 KiB + 5 B a cell.
REPORT_BASE_BYTES = 512 * 1024
REPORT_BYTES_PER_CELL = 5
#: Disk bytes per cell of the self-contained HTML view (vtk.js archive of the meshes, base64),
#: measured: 152 MB for the 2000 x 2000 flash flood: 38, with margin 40.
HTML_BYTES_PER_CELL = 40
#: Share added to the grid-sized parts of every phase: glibc keeps freed heap blocks (arrays
#: under its 32 MiB mmap threshold come from the heap and the heap is not given back when
#: fragmented), and repeated runs of the same case differed by up to 3 % (bench/README.md).
ALLOCATOR_SLACK = 0.05
#: Memory must stay under this share of the available memory (as :func:`twin.core.citytwin.check_memory`).
MEMORY_SHARE = 0.8


@dataclass(frozen=True)
class Budget:
    """A run's estimated peak resident memory and output disk bytes, with their parts.

    Attributes
    ----------
    shape : tuple of int
        Grid ``(ny, nx)``.
    hazard : str
        ``"flood"`` or ``"fire"``.
    snapshots : int
        Snapshots the control run keeps (``output.every`` over the duration).
    members : int
        Ensemble members reduced into the risk maps (1: the control alone).
    phase : str
        The run phase at which the memory peaks (``"control run"``, ``"hazard.nc"``,
        ``"risk reduction"``, ``"risk.nc"``, ``"rendering"``, ``"twin load"``).
    components : tuple of (str, int)
        Named parts of the peak (bytes); they sum to :attr:`total`.
    disk : tuple of (str, int)
        Named output files or groups and their bytes on disk (uncompressed upper bound).
    phases : tuple of (str, int)
        Every phase and what it holds (bytes), for the record.
    """

    shape: tuple[int, int]
    hazard: str
    snapshots: int
    members: int
    phase: str
    components: tuple[tuple[str, int], ...]
    disk: tuple[tuple[str, int], ...]
    phases: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        """Peak resident memory of the run (bytes): the sum of :attr:`components`."""
        return sum(b for _, b in self.components)

    @property
    def disk_total(self) -> int:
        """Disk bytes of the outputs (uncompressed upper bound): the sum of :attr:`disk`."""
        return sum(b for _, b in self.disk)

    def component(self, name: str) -> int:
        """Bytes of the named component of the peak (0 when absent)."""
        return sum(b for n, b in self.components if n == name)

    def describe(self) -> str:
        """One line: peak memory with its largest parts and the peak phase, then the disk bytes."""
        shown = sorted((c for c in self.components if c[0] != "allocator slack"), key=lambda c: -c[1])
        parts = ", ".join(f"{n} {_gib(b)}" for n, b in shown[:4])
        disk = ", ".join(f"{n} {_gib(b)}" for n, b in sorted(self.disk, key=lambda c: -c[1])[:3])
        return (f"{self.shape[0]} x {self.shape[1]} cells, {self.hazard}, {self.snapshots} snapshots, "
                f"{self.members} member{'s' if self.members != 1 else ''}: peak memory about "
                f"{_gib(self.total)} at {self.phase} ({parts}); outputs about {_gib(self.disk_total)} "
                f"on disk ({disk})")


def _gib(n: float) -> str:
    return f"{n / GiB:.1f} GiB" if n >= 0.1 * GiB else f"{n / MiB:.0f} MiB"


def scenario_grid(sf: ScenarioFile) -> Grid:
    """The grid of a scenario's twin, read from the terrain raster's header (or the twin netCDF's
    coordinates) without loading anything, so that the budget can be checked before the twin is
    loaded.

    Raises
    ------
    InputError
        As :func:`twin.core.citytwin.load_twin` for a missing or unreadable manifest or terrain.
    """
    from twin.core.citytwin import TwinManifest, read_manifest, twin_grid
    from twin.core.rasters import read_grid
    from twin.core.validation import validate

    source = sf.twin_source()
    if isinstance(source, dict):
        manifest, folder = validate(TwinManifest, source, {}, "inline twin"), sf.folder
    elif Path(source).suffix == ".nc":
        import xarray as xr

        path = Path(source)
        if not path.exists():
            raise InputError("twin netCDF not found", file=path)
        try:
            with xr.open_dataset(path, engine="netcdf4", decode_coords="all") as ds:
                return twin_grid(ds)
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"not a readable netCDF twin ({exc})", file=path) from None
    else:
        manifest, folder = read_manifest(source)
    return read_grid(Path(folder) / manifest.rasters.elevation)


def member_count(sf: ScenarioFile) -> int:
    """Members a scenario's risk maps are reduced over (1 when it has no ensemble)."""
    return sf.scenario.ensemble.members if is_ensemble(sf) else 1


def _netcdf(variable_bytes: list[float]) -> float:
    """Resident bytes netCDF-C/HDF5 hold while a file of these (compressed) variables is written."""
    return NETCDF_WRITE_BYTES + sum(min(NETCDF_CHUNK_CACHE_BYTES, b) for b in variable_bytes)


def estimate_run(sf: ScenarioFile, grid: Grid, *, render: bool | None = None,
                 members: int | None = None, workers: int | None = None,
                 scheduler: str | None = None, hazards: HazardRegistry = HAZARDS) -> Budget:
    """Estimate the peak resident memory and the output disk bytes of a whole run.

    The run is followed phase by phase as :func:`twin.pipeline.run.run_scenario` goes; each phase holds
    what is still referenced from the earlier ones (the twin, the hazard inputs and the control
    result live until the run folder is complete; the risk maps until the renderings are done)
    plus its own arrays. The peak is the largest phase.

    Parameters
    ----------
    sf : ScenarioFile
        The scenario (with ``--until`` applied: :meth:`ScenarioFile.with_duration`).
    grid : Grid
        The grid of its twin (:func:`scenario_grid`).
    render : bool, optional
        Whether the renderings run in the same process (the CLI without ``--no-render``);
        default the scenario's ``render.enabled``.
    members : int, optional
        Members to reduce (e.g. one per forecast member in the batch); default the scenario's
        ensemble (1 without one).
    workers : int, optional
        Worker processes of the local dask cluster (default one per core); their memory counts,
        as it is on this machine.
    scheduler : str, optional
        An external dask scheduler: the members' memory is then on the cluster's machines and
        not counted (default the scenario's ``scheduler``).
    hazards : HazardRegistry
        The hazards (the scenario's hazard gives its memory use, :attr:`Hazard.memory`).

    Returns
    -------
    Budget
        Peak memory (bytes) with its parts, the phase it happens in, and the disk bytes.

    Notes
    -----
    Tiled control runs (``parallel.tiles``) are counted with the halo and output blocks of
    :mod:`twin.hazards.flood.tiled` (two sets of each, :func:`twin.hazards.flood.tiled._reused_block`), a bound
    that was not measured. Animations (``render.animation``) are not counted.
    """
    sc = sf.scenario
    hazard = get_hazard(sc.hazard, hazards)
    ny, nx = (int(s) for s in grid.shape)
    n = ny * nx
    use = hazard.memory(sf, grid)
    snaps, s_bytes = use.snapshots, use.snapshot_bytes
    n_members = member_count(sf) if members is None else int(members)
    dask_members = n_members > 1 or is_ensemble(sf)
    render = sc.render.enabled if render is None else bool(render)
    copies = RESULT_DATASET_COPIES

    twin = TWIN_BYTES_PER_CELL * n
    inputs, state, result, fields, hazard_vars = use.inputs, use.state, use.result, use.fields, use.netcdf_variables
    n_counts = len(hazard.risk.count_names())
    n_risk = len(hazard.risk.fields)
    risk_maps = 8 * n_risk * n
    counts = 8 * n_counts * n
    base = DRIVER_BASE_BYTES
    map_copies = copies * fields                  # result_dataset's deep copies (garbage until collected)
    # the snapshots, fire's int8 copy of them (hazard_dataset's astype) and result_dataset's copies
    snap_held = s_bytes * (1 + use.snapshot_copies + copies)

    phases: dict[str, dict[str, float]] = {}
    kept = {"python and libraries": base, "twin": twin, "hazard inputs": inputs}
    phases["twin load"] = {"python and libraries": base, "twin": LOAD_PEAK_BYTES_PER_CELL * n}
    phases["hazard setup"] = {**kept, "hazard setup temporaries": use.setup_temporaries}
    phases["control run"] = {**kept, "hazard state": state, "snapshots": s_bytes}
    after = {**kept, "control result": result, "snapshots": s_bytes}
    # hazard_dataset's maps (and result_dataset's copies, none since inplace=True) stay allocated
    # after hazard.nc is written: the Dataset sits in a reference cycle until the cyclic collector
    # runs (RESULT_DATASET_COPIES)
    held = {**after, "snapshots": snap_held, "hazard.nc maps": fields, "xarray/rioxarray copies": map_copies}
    phases["hazard.nc"] = {**held, "netCDF chunk cache": _netcdf(hazard_vars)}
    # RiskAccumulator: the int64 counts throughout; then either add() with a member's maps and
    # temporaries, or finalize() with the probabilities, the statistics and its row blocks
    adding = use.risk_add_bytes_per_cell * n + (use.member_map_bytes_per_cell * n if dask_members else 0)
    # building_table runs first (reduce_members) and keeps only the table once its temporaries are freed
    accumulating = counts + max(adding, risk_maps + RISK_FINALIZE_BLOCK_BYTES)
    table_kept = BUILDING_TABLE_KEPT_BYTES_PER_CELL * n
    table_peak = BUILDING_TABLE_BYTES_PER_CELL * n
    phases["risk reduction"] = {**held, "risk counts and maps": max(accumulating, table_peak - table_kept),
                                "building table": table_kept}
    phases["risk.nc"] = {**held, "risk maps": risk_maps,
                         "xarray/rioxarray copies": map_copies + copies * risk_maps,
                         "netCDF chunk cache": _netcdf([8 * n] * n_risk)}
    if render:
        # viz.run_data.load_run reads hazard.nc's snapshots again: counted with the snapshots, so
        # that a run dominated by them is told to change output.every, not to skip the renderings
        phases["rendering"] = {**after, "snapshots": 2 * s_bytes, "risk maps": risk_maps,
                               "rendering": RENDER_BASE_BYTES + RENDER_BYTES_PER_CELL * n}
    local_workers = dask_members and (scheduler or sc.scheduler) is None
    if local_workers:
        k = max(1, min(workers or os.cpu_count() or 1, n_members))
        member = (TWIN_BYTES_PER_CELL * n + inputs + state + s_bytes + result
                  + 2 * use.member_map_bytes_per_cell * n)
        dask = (workers or os.cpu_count() or 1) * WORKER_BASE_BYTES + k * member
        for name in ("control run", "hazard.nc", "risk reduction"):
            phases[name]["dask workers"] = dask
    for parts in phases.values():
        grid_sized = sum(b for k, b in parts.items() if k != "python and libraries")
        parts["allocator slack"] = ALLOCATOR_SLACK * grid_sized
    totals = {name: int(sum(parts.values())) for name, parts in phases.items()}
    peak = max(totals, key=totals.get)
    components = tuple((name, int(b)) for name, b in phases[peak].items() if b > 0)

    n_cogs = len(hazard.outputs.geotiff) + len(hazard.risk.headline)
    disk = [("twin.nc", twin), ("hazard.nc snapshots", s_bytes),
            ("hazard.nc maps", sum(hazard_vars) - s_bytes), ("risk.nc", risk_maps),
            ("GeoTIFFs", n_cogs * COG_BYTES_PER_CELL * n if sc.output.geotiff else 0),
            ("buildings.csv/geojson/gpkg", BUILDING_FILES_BYTES_PER_CELL * n), ("report.html", REPORT_BASE_BYTES + REPORT_BYTES_PER_CELL * n)]
    if n_members > 1 or dask_members:
        disk.append(("spilled member maps", n_members * 4 * len(hazard.risk.distributions) * n))
    if render and sc.render.html:
        disk.append(("view.html", HTML_BYTES_PER_CELL * n))
    return Budget(shape=(ny, nx), hazard=hazard.name, snapshots=snaps, members=n_members, phase=peak,
                  components=components, disk=tuple((k, int(v)) for k, v in disk if v > 0),
                  phases=tuple(totals.items()))


def nearest_existing(path: str | Path) -> Path:
    """The path itself, or its nearest ancestor that exists (where free disk space is measured)."""
    p = Path(path).absolute()
    while not os.path.exists(p) and p != p.parent:  # False on any OSError (loops, long names)
        p = p.parent
    return p


#: What to change in the scenario, by the component that dominates the peak.
_ADVICE = {
    "snapshots": ("output.every", "write snapshots less often (a larger output.every) or shorten the duration"),
    "hazard.nc snapshots": ("output.every", "write snapshots less often (a larger output.every)"),
    "rendering": ("render.enabled", "render afterwards with `twin render` (or run with --no-render)"),
    "dask workers": ("ensemble.members", "run with fewer --workers or on a cluster (--scheduler)"),
    "spilled member maps": ("ensemble.members", "use fewer ensemble members or another output folder"),
}
_GRID_ADVICE = ("twin", "crop the rasters or use a coarser cell size")


def check_run_fits(budget: Budget, file: str | Path | ScenarioFile, available_memory: int | None = None,
                   free_disk: int | None = None, out_dir: str | Path | None = None) -> None:
    """Refuse a run whose estimated peak memory or output size does not fit.

    Parameters
    ----------
    budget : Budget
        From :func:`estimate_run`.
    file : str, Path or ScenarioFile
        The scenario file (named in the error); given as the ScenarioFile, the error also has
        the YAML line of the field to change.
    available_memory : int, optional
        Bytes available; default the system's available memory (psutil).
    free_disk : int, optional
        Free bytes where the run folder will be written; default measured with
        :func:`shutil.disk_usage` at the nearest existing ancestor of ``out_dir``.
    out_dir : str or Path, optional
        The run folder; without it and without ``free_disk`` the disk is not checked.

    Raises
    ------
    InputError
        When the peak exceeds :data:`MEMORY_SHARE` (80 %) of the available memory, or the
        outputs exceed the free disk space; the message gives the need with its largest parts,
        what is available, and the scenario field to change (``field``).
    """
    if available_memory is None:
        import psutil

        available_memory = psutil.virtual_memory().available
    need = budget.total
    if need > MEMORY_SHARE * available_memory:
        parts = sorted((c for c in budget.components if c[0] not in ("python and libraries", "allocator slack")),
                       key=lambda c: -c[1])
        field, advice = _advice(parts[0][0] if parts else "")
        listed = ", ".join(f"{n} {_gib(b)}" for n, b in parts[:3])
        raise _error(file, field, f"the run needs about {_gib(need)} of memory ({listed}; peak at {budget.phase}, "
                     f"{budget.shape[0]} x {budget.shape[1]} cells, {budget.snapshots} snapshots) but "
                     f"{_gib(available_memory)} is available; {advice}")
    if free_disk is None and out_dir is not None:
        free_disk = shutil.disk_usage(nearest_existing(out_dir)).free
    if free_disk is not None and budget.disk_total > free_disk:
        parts = sorted(budget.disk, key=lambda c: -c[1])
        field, advice = _advice(parts[0][0])
        where = f" at {nearest_existing(out_dir)}" if out_dir is not None else ""
        listed = ", ".join(f"{n} {_gib(b)}" for n, b in parts[:3])
        raise _error(file, field, f"the run writes up to about {_gib(budget.disk_total)} ({listed}, "
                     f"uncompressed) but {_gib(free_disk)} is free{where}; {advice}")


def _error(file, field: str, message: str) -> InputError:
    """The InputError at ``field`` of the scenario file (with its YAML line when ``file`` is a ScenarioFile)."""
    if isinstance(file, ScenarioFile):
        return file.error(tuple(field.split(".")), message)
    return InputError(message, file=file, field=field)


def _advice(component: str) -> tuple[str, str]:
    return _ADVICE.get(component, _GRID_ADVICE)
