"""Writing files atomically: to a temporary name beside the target, then rename.

A failed or interrupted write leaves no file under the final name. Temporary names are
``.NAME.tmp-XXXXXXXX`` (:func:`temporary_name`, recognised by :data:`TEMPORARY`), so that a
writer that holds a folder's lock can tell a crashed writer's leftovers from anything else.
"""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

#: A temporary name of this project: ``.NAME.tmp-XXXXXXXX`` or, for a folder moved aside while
#: it is replaced, ``.NAME.old-XXXXXXXX`` (8 hexadecimal digits).
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-[0-9a-f]{8}$")


def temporary_name(path: Path, kind: str = "tmp") -> Path:
    """A fresh temporary path beside ``path``: ``.NAME.KIND-XXXXXXXX``."""
    return path.with_name(f".{path.name}.{kind}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
