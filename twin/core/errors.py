"""The two error types of the project.

:class:`InputError` is bad input (a scenario, a raster, a forecast): the command line prints it
as one line and exits with code 2. :class:`RunError` is a failure while running a valid input
(an unstable kernel, a failed member): exit code 1.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Control characters (all but the newline that separates listed schema errors): shown escaped,
#: so that a file name or value cannot move the cursor or recolour the terminal.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

FOUND_MAX_CHARS = 120
"""Longest ``found`` text an error echoes; longer text (a whole file read as one value) is cut."""


def shorten(text: str, limit: int = FOUND_MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" and its full length when it was longer.

    Parameters
    ----------
    text : str
        Text from the user's data, to be echoed in a message.
    limit : int, optional
        Characters kept.

    Returns
    -------
    str
        ``text`` itself when short enough, else e.g. ``"root:x:0:0:… (1739 characters in all)"``.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters in all)"


def one_of(names) -> str:
    """Names listed for a message, the last after "or": ``"a"``, ``"a or b"``, ``"a, b or c"``.

    Parameters
    ----------
    names : iterable of str
        The names, in the order shown; repeated names are shown once.

    Returns
    -------
    str
        The list in words; ``"nothing"`` for no names.
    """
    names = list(dict.fromkeys(str(n) for n in names))
    if not names:
        return "nothing"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


class InputError(Exception):
    """Bad input, reported as one line naming the file, the field, what was expected and found.

    Parameters
    ----------
    message : str
        What is wrong, in words (used alone when ``expected``/``found`` are not given).
    file : str or Path, optional
        The file the problem is in.
    field : str, optional
        The field path inside the file, e.g. ``flood.inflows[0].discharge_m3_s``.
    line : int, optional
        1-based line number in the file, where known.
    expected, found : str, optional
        What was expected and what was found; ``found`` is cut to :data:`FOUND_MAX_CHARS` characters
        (see :func:`shorten`). Either is left out of the message when not given (None or blank
        text), so a message never reads "expected None".
    """

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None,
                 line: int | None = None, expected: str | None = None, found: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.line = line
        self.expected = _given(expected)
        found = _given(found)
        self.found = shorten(found) if found is not None else None
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as one line: ``file: field: message (expected …, found …) (line N)``."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.field:
            parts.append(self.field)
        text = self.message
        said = [f"{what} {value}" for what, value in (("expected", self.expected), ("found", self.found))
                if value is not None]
        if said:
            text += f" ({', '.join(said)})"
        if self.line is not None:
            text += f" (line {self.line})"
        parts.append(text)
        return _CONTROL.sub(lambda m: repr(m.group())[1:-1], ": ".join(parts))


def _given(value: object) -> str | None:
    """``value`` as text, or None when it says nothing (None, or blank text)."""
    if value is None or not str(value).strip():
        return None
    return str(value)


class RunError(Exception):
    """A valid input whose run failed (non-finite state, failed members, an interrupted writer)."""
