"""Output folders a run or a batch may write: names, ownership, staging, leftovers.

The rules (README, "Safety"):

* A name that becomes a folder (a scenario's ``name``, ``--issued``) is one plain path component
  (:func:`folder_name`): it cannot climb out of its parent or name a hidden folder.
* A run replaces a folder only when it is empty or is a run folder of this project (it holds the
  :data:`MARKER` file, or a ``manifest.json`` written by this project); anything else is refused
  before the run starts unless ``force`` is given. Never, even with ``force``: the file system
  root, the home folder, the working folder or one of its parents, a symbolic link, a file, or a
  folder that holds an input of the run (the scenario, the twin's rasters, a forecast).
* A run is written into a hidden staging folder beside its final name (``.NAME.tmp-XXXXXXXX``,
  marked as this project's), locked while written (:mod:`twin.io.locks`), and renamed into place
  whole when complete; nothing half-written ever carries the final name.
* A run folder lists what it holds in its ``manifest.json`` (:func:`list_products`), its log
  ``run.log`` (:data:`RUN_LOG`, appended while the run is written in its staging folder) among them.
* Staging folders of crashed runs (their lock is free) are removed by the next run into the same
  parent, and only they: a live writer's folder (its lock held) and anything without the marker
  are left alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from twin.core.atomic import TEMPORARY, temporary_name
from twin.core.errors import InputError, RunError
from twin.io.locks import exclusive_lock, lock_if_free

#: The file that marks a folder as written by this project: JSON ``{"kind": "run" | "batch" | "twin"}``.
MARKER = ".city-twin"
#: What a folder name may hold: letters, digits, ``.``, ``_``, ``-``, starting with a letter or digit.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Longest folder name (bytes): 255 (the usual file-system limit) less the staging suffix.
MAX_NAME_BYTES = 200
#: The run's log in its folder: JSON lines (:mod:`twin.io.runlog`), appended during the run.
RUN_LOG = "run.log"
#: The manifest of a run folder, written last; a folder without one is incomplete.
MANIFEST = "manifest.json"
#: The files by which a folder written before :data:`MARKER` existed is recognised, per kind.
_RECORD_FILES = {"run": MANIFEST, "batch": "batch.json"}


def folder_name(text: str, what: str) -> str:
    """Check that ``text`` is one safe folder name and return it.

    Parameters
    ----------
    text : str
        The candidate name.
    what : str
        What the name is, for the message (e.g. ``"--issued"``).

    Raises
    ------
    InputError
        For ``.``, ``..``, separators, hidden names, other characters, or a name too long.
    """
    if not NAME_PATTERN.match(text) or set(text) == {"."}:
        raise InputError(f"{what} is not a plain folder name", expected="letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit", found=repr(text))
    if len(text.encode()) > MAX_NAME_BYTES:
        raise InputError(f"{what} is too long for a folder name", expected=f"at most {MAX_NAME_BYTES} bytes",
                         found=f"{len(text.encode())} bytes")
    return text


def _absolute(path: str | Path) -> Path:
    """``path`` made absolute and normalised (``..`` folded) without following its last link."""
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on Python < 3.13
        raise InputError(f"cannot resolve the path: {exc}", file=path) from None


def _marker_kind(folder: Path) -> str | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def folder_kind(folder: Path) -> str | None:
    """``"run"`` or ``"batch"`` for a folder this project wrote, else None."""
    kind = _marker_kind(folder)
    if kind is not None:
        return kind
    for kind, record in _RECORD_FILES.items():
        try:
            data = json.loads((folder / record).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and ("versions" in data or "issued" in data):
            return kind
    return None


def _listing(folder: Path, most: int = 5) -> str:
    names = sorted(p.name for p in folder.iterdir())
    shown = ", ".join(names[:most])
    return f"{len(names)} entries: {shown}" + (", …" if len(names) > most else "")


def _protected_folders() -> list[Path]:
    home = Path.home().resolve()
    cwd = Path.cwd().resolve()
    return [Path("/"), home, cwd, *cwd.parents]


def check_output_folder(folder: str | Path, kind: str, inputs: Iterable[Path] = (), force: bool = False) -> Path:
    """Check that a run (``kind="run"``) or batch may write ``folder``; returns it absolute.

    Parameters
    ----------
    folder : str or Path
        The folder the run would replace (or the batch would write into).
    kind : {"run", "batch"}
        What will be written.
    inputs : iterable of Path
        The run's input files: the folder must not hold any of them.
    force : bool
        Allow replacing a folder this project did not write (still never one of the folders
        listed in the module docstring).

    Raises
    ------
    InputError
        Naming the folder and why it is refused (and what is in it).
    """
    folder = _absolute(folder)
    if len(folder.name.encode()) > MAX_NAME_BYTES:
        raise InputError("the output folder's name is too long", file=folder,
                         expected=f"at most {MAX_NAME_BYTES} bytes", found=f"{len(folder.name.encode())} bytes")
    if folder.is_symlink():
        raise InputError("the output folder is a symbolic link; give the folder it points to", file=folder)
    real = _resolved(folder)
    if real in _protected_folders():
        raise InputError("refusing to write a run over the file system root, the home folder or the working "
                         "folder (or a folder above it); give a folder of its own, e.g. runs/NAME", file=folder)
    for path in inputs:
        held = _resolved(_absolute(path))
        if held == real or real in held.parents:
            raise InputError(f"the output folder holds an input of the run ({path}); writing the run there "
                             "would destroy it", file=folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("the output path exists and is not a folder", file=folder)
    if folder.is_dir() and not force:
        _check_owned(folder, kind)
    return folder


def _check_owned(folder: Path, kind: str) -> None:
    try:
        empty = next(folder.iterdir(), None) is None
    except OSError as exc:
        raise InputError(f"cannot list the output folder: {exc.strerror}", file=folder) from None
    if empty or folder_kind(folder) == kind:
        return
    raise InputError(f"the output folder exists and is not a {kind} folder of this project "
                     f"({_listing(folder)}); refusing to replace it. Give another folder, or --force to "
                     "replace it (its files will be deleted)", file=folder)


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_staging(parent: Path, own_name: str | None = None) -> list[str]:
    """Remove staging folders of crashed runs in ``parent``; returns their names.

    A staging folder (``.NAME.tmp-XXXXXXXX`` or ``.NAME.old-XXXXXXXX``) is removed when it holds
    :data:`MARKER` and the lock of ``NAME`` is free (its writer is gone). ``own_name``: the
    caller holds that name's lock, so its staging folders are stale without asking.
    """
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = TEMPORARY.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink() or _marker_kind(entry) is None:
            continue
        name = match["name"]
        if name == own_name:
            _remove_tree(entry)
            removed.append(entry.name)
            continue
        with lock_if_free(parent / name) as free:
            if free:
                _remove_tree(entry)
                removed.append(entry.name)
    return removed


def mark(folder: Path, kind: str) -> None:
    """Write :data:`MARKER` into ``folder``: written by this project, as a ``kind`` folder."""
    (folder / MARKER).write_text(json.dumps({"kind": kind, "project": "city-twin"}) + "\n", encoding="utf-8")


def list_products(folder: Path) -> list[dict]:
    """The files of a run folder (its staging folder while written), for its manifest.

    Parameters
    ----------
    folder : Path
        The run's folder.

    Returns
    -------
    list of dict
        ``{"file": path relative to the folder (POSIX), "bytes": size}`` per file, sorted by path;
        the marker and the manifest itself are left out.
    """
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file())
    return [{"file": name, "bytes": p.stat().st_size} for name, p in files if name not in (MARKER, MANIFEST)]


def _make_parent(folder: Path) -> None:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder's parent: {exc.strerror}", file=folder.parent) from None


@contextmanager
def staged_run_folder(folder: str | Path, inputs: Iterable[Path] = (), force: bool = False, kind: str = "run"):
    """Claim ``folder`` for a run (or another ``kind`` of folder, e.g. ``"twin"``): lock it, check it,
    and yield an empty staging folder beside it.

    On normal exit of the block the staging folder replaces ``folder`` whole (an old run folder
    is moved aside first and removed after); on an exception it is removed and ``folder`` is as
    it was. The lock is held throughout, so a second writer is refused at once.

    Raises
    ------
    InputError
        When the folder may not be written (:func:`check_output_folder`), another process is
        writing it, or its parent cannot be written (read-only disk, permissions) — all before
        the caller's work starts.
    """
    folder = _absolute(folder)
    inputs = list(inputs)
    check_output_folder(folder, kind, inputs, force)
    _make_parent(folder)
    with exclusive_lock(folder):
        check_output_folder(folder, kind, inputs, force)  # again, now that nobody else writes it
        remove_stale_staging(folder.parent, own_name=folder.name)
        staging = temporary_name(folder)
        try:
            staging.mkdir()
            mark(staging, kind)
        except OSError as exc:
            _remove_tree(staging)
            raise InputError(f"cannot write in the output folder's parent: {exc.strerror}",
                             file=folder.parent) from None
        try:
            yield staging
            _replace(folder, staging)
        except Exception as exc:
            _raise_if_disk_full(folder.parent, exc)
            raise
        finally:
            _remove_tree(staging)


#: Free bytes below which a failed write is put down to a full disk.
DISK_FULL_BYTES = 1 << 20


def _raise_if_disk_full(parent: Path, exc: Exception) -> None:
    """A write that failed on a full disk surfaces as whatever the writing library raises (HDF5
    says "HDF error"): name the cause instead.

    Raises
    ------
    RunError
        When less than :data:`DISK_FULL_BYTES` is free at ``parent``.
    """
    try:
        free = shutil.disk_usage(parent).free
    except OSError:
        return
    if free < DISK_FULL_BYTES:
        raise RunError(f"the disk filled up while the run was written ({free} bytes free at {parent}; "
                       f"the writer said: {exc}); nothing was kept") from exc


def _replace(folder: Path, staging: Path) -> None:
    """Rename ``staging`` to ``folder``, moving an existing ``folder`` aside first."""
    old = None
    if folder.exists():
        old = temporary_name(folder, "old")
        os.replace(folder, old)
        if _marker_kind(old) is None:
            mark(old, "run")  # so that a crash before the removal leaves a recognisable leftover
    os.replace(staging, folder)
    if old is not None:
        _remove_tree(old)


@contextmanager
def claimed_batch_folder(folder: str | Path, inputs: Iterable[Path] = (), force: bool = False):
    """Claim ``folder`` for a batch: check it, lock it, create and mark it; yield it.

    Raises
    ------
    InputError
        As :func:`staged_run_folder`, for a batch folder.
    """
    folder = _absolute(folder)
    inputs = list(inputs)
    check_output_folder(folder, "batch", inputs, force)
    _make_parent(folder)
    with exclusive_lock(folder):
        check_output_folder(folder, "batch", inputs, force)
        try:
            folder.mkdir(exist_ok=True)
            if _marker_kind(folder) is None:
                mark(folder, "batch")
        except OSError as exc:
            raise InputError(f"cannot write the batch folder: {exc.strerror}", file=folder) from None
        yield folder
