"""A twin of a real city from the data a city has: DEM tiles, building footprints, land cover, roads, rivers.

:func:`build_twin` (and ``twin build BUILD.yaml --out DIR``) writes a twin folder that
:func:`twin.core.citytwin.load_twin` reads: ``twin.yaml``, COG rasters on one grid,
``buildings.gpkg`` (the source footprints with their attributes, the source id and the twin's
``building_id``) and the build report. The build file is documented in ``docs/build.md``; the
stages are listed in :mod:`twin.build.build`.
"""

from twin.build.build import build_twin
from twin.build.report import BuildReport

__all__ = ["BuildReport", "build_twin"]
