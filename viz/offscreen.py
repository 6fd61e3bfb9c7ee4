"""Offscreen rendering without an X server: VTK's EGL render window wherever EGL is installed.

VTK (>= 9.4) chooses its OpenGL window when the first one is made, trying X first; without an
X server that try prints ``vtkXOpenGLRenderWindow ... bad X server connection`` (coloured, on
stderr) before VTK falls back to EGL. Every scene of this package is offscreen, so it asks for
the EGL window at once through VTK's ``VTK_DEFAULT_OPENGL_WINDOW`` variable, read each time a
render window is made (DESIGN.md section 8: pyvista >= 0.49 with vtk >= 9.5 renders offscreen
through EGL with no X server).
"""

from __future__ import annotations

import ctypes.util
import functools
import os

#: VTK's environment variable naming the OpenGL render window class it makes.
WINDOW_VARIABLE = "VTK_DEFAULT_OPENGL_WINDOW"
#: VTK's offscreen window on EGL (no X server needed; a GPU's driver or Mesa's llvmpipe).
EGL_WINDOW = "vtkEGLRenderWindow"


@functools.cache
def egl_installed() -> bool:
    """True when the dynamic loader finds libEGL (looked up once per process)."""
    return ctypes.util.find_library("EGL") is not None


def prefer_egl() -> str | None:
    """Have VTK make its EGL render window, unless the user chose a window or EGL is missing.

    Sets ``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` in this process's environment. It is
    left as it is when already set (the user's choice, e.g. ``vtkOSOpenGLRenderWindow`` for
    OSMesa) and when no libEGL is installed: VTK then tries its windows in its own order and
    says on stderr why each one failed.

    Returns
    -------
    str or None
        The window class VTK will make (``vtkEGLRenderWindow``, the user's), or None for VTK's
        own choice.
    """
    if WINDOW_VARIABLE not in os.environ and egl_installed():
        os.environ[WINDOW_VARIABLE] = EGL_WINDOW
    return os.environ.get(WINDOW_VARIABLE)
