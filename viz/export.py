"""Exports of a run for other tools and for people: the interactive HTML viewer, glTF, VTK meshes.

The HTML page is the project's own WebGL 2 viewer (:mod:`viz.viewer`), built from the run folder
itself; glTF and VTK take the composed pyvista scene.
"""

from __future__ import annotations

from pathlib import Path

import pyvista as pv

from viz.scene import CityScene
from viz.viewer.page import write_viewer


#: The HTML export: the run's interactive viewer, one self-contained page (:mod:`viz.viewer`).
export_html = write_viewer


def export_gltf(scene: CityScene, out: str | Path) -> Path:
    """Write the scene's meshes as glTF 2.0 (``.gltf`` with buffers inlined as base64, or ``.glb``).

    glTF is y-up: the exporter rotates the z-up scene so that up stays up in glTF viewers.

    Parameters
    ----------
    scene : CityScene
    out : str or Path
        ``.gltf`` or ``.glb`` path.

    Returns
    -------
    Path
        The file written.
    """
    out = Path(out)
    scene.plotter.export_gltf(str(out), inline_data=True, rotate_scene=True, save_normals=True)
    return out


def scene_blocks(scene: CityScene) -> pv.MultiBlock:
    """The scene's meshes (terrain, buildings, hazard layer) as named blocks, empty ones left out."""
    meshes = {"terrain": scene.terrain, "buildings": scene.buildings, "layer": scene.layer_mesh}
    return pv.MultiBlock({name: mesh for name, mesh in meshes.items()
                          if mesh is not None and mesh.n_cells})


def export_vtm(scene: CityScene, out: str | Path) -> Path:
    """Write the scene's meshes as a VTK multiblock: ``out`` (.vtm) plus one .vtp per mesh.

    The .vtp files go to a folder named after ``out``'s stem, as VTK writes multiblocks; each
    re-opens with ``pyvista.read``. Coordinates are local metres (see :mod:`viz.meshes`), with the
    south-west corner's easting and northing in each mesh's ``field_data["origin"]``.

    Parameters
    ----------
    scene : CityScene
    out : str or Path
        ``.vtm`` path.

    Returns
    -------
    Path
        The .vtm written.
    """
    out = Path(out)
    scene_blocks(scene).save(out)
    return out
