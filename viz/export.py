"""Scene exports for other tools: a self-contained interactive HTML page, glTF, and VTK meshes.

The HTML page is vtk.js's OfflineLocalView (the static viewer shipped with ``trame-vtk``), with
the scene serialized by trame-vtk's serializers and embedded as base64: it opens in a browser
with no Python and no network. The serializers are called directly, without starting a trame
server (``Plotter.trame.export_html`` starts one, and needs ``trame-pyvista`` and
``nest_asyncio2``, which patches asyncio process-wide).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyvista as pv

from viz.scene import CityScene


def scene_archive(plotter: pv.Plotter) -> bytes:
    """The plotter's scene as a vtk.js OfflineLocalView archive (zip holding ``index.json``).

    Parameters
    ----------
    plotter : pyvista.Plotter
        A rendered plotter.

    Returns
    -------
    bytes
        Zip archive with the scene description and every data array it references.
    """
    from trame_vtk.modules.vtk.serializers import (SynchronizationContext, extract_array_hash,
                                                   initialize_serializers, reference_id, serialize)

    plotter.render()
    initialize_serializers()
    context = SynchronizationContext()
    window = plotter.render_window
    camera = plotter.renderer.GetActiveCamera()
    scene = serialize(None, window, reference_id(window), context, 1)
    scene["extra"] = {"vtkRefId": reference_id(window), "centerOfRotation": camera.GetFocalPoint(),
                      "camera": reference_id(camera)}
    hashes = {entry["hash"]: dict(**entry, content=context.get_cached_data_array(entry["hash"], False))
              for entry in extract_array_hash(scene)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.json", json.dumps({"hashes": hashes, "scene": scene}))
    return buffer.getvalue()


def export_html(scene: CityScene, out: str | Path) -> Path:
    """Write the scene as one self-contained interactive HTML page (vtk.js, data inlined).

    vtk.js draws every scalar bar at the same place and shows no text actors, so the page keeps
    only the hazard layer's scalar bar (the buildings' one is removed from ``scene``) and has no
    title.

    Parameters
    ----------
    scene : CityScene
    out : str or Path
        ``.html`` path.

    Returns
    -------
    Path
        The page written.
    """
    from trame_vtk.tools.vtksz2html import write_html

    for title in list(scene.plotter.scalar_bars.keys()):
        if scene.layer_label is not None and title != scene.layer_label:
            scene.plotter.remove_scalar_bar(title)
    out = Path(out)
    with out.open("w", encoding="utf-8") as page:
        write_html(scene_archive(scene.plotter), page)
    return out


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
