"""Validating parsed YAML into frozen pydantic models, reporting every error at once.

Each error names the file, the YAML path (``flood.inflows[0].discharge_m3_s``), the line, what was
expected and what was found. The errors are gathered into one :class:`twin.core.errors.InputError`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from twin.core.errors import InputError, shorten
from twin.core.yamlio import format_path, line_of

M = TypeVar("M", bound=BaseModel)


def _yaml_loc(loc: tuple, data: object, missing: bool) -> tuple:
    """Keep the parts of a pydantic error location that exist in the YAML data.

    Pydantic inserts union-branch tags (``'float'``, ``'UniformRainfall'``, ``'function-after[…]'``)
    into locations; walking the data drops them. A last part that is absent (a missing key) is kept.
    """
    kept = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif missing and i == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            pass  # a missing key
        else:
            continue
        kept.append(part)
    return tuple(kept)


def _describe(err: dict) -> str:
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "extra_forbidden":
        return "unknown key (typo?)"
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] == "model_type":  # not "… or instance of FloodSpec": the class is no word of the file
        msg = "Input should be a mapping (key: value lines)"
    found = err.get("input")
    if isinstance(found, date):  # YAML's dates and date-times, as written rather than as Python objects
        found = found.isoformat()
    if isinstance(found, (dict, list)) or found is None:
        return msg
    return f"{msg}; found {shorten(repr(found))}"


def _node(data: object, loc: tuple) -> object:
    for part in loc:
        data = data[part]
    return data


def _point_at_named_key(loc: tuple, text: str, data: object) -> tuple[tuple, str]:
    """A model check's message ``"key: problem"`` about a key of the node at ``loc`` points at that key."""
    key, sep, rest = text.partition(": ")
    node = _node(data, loc)
    if sep and isinstance(node, dict) and key in node:
        return loc + (key,), rest
    return loc, text


def validate(model: type[M], data: object, lines: dict, file: str | Path, context: dict | None = None) -> M:
    """Validate ``data`` into ``model``, turning every pydantic error into one InputError.

    Parameters
    ----------
    model : pydantic model class
    data : object
        Parsed YAML.
    lines : dict
        Field path -> line, from :func:`twin.core.yamlio.load_yaml_with_lines`.
    file : str or Path
        The file the data came from (named in the message).
    context : dict, optional
        Passed to pydantic validators (e.g. the scenario's folder, to resolve relative paths).

    Raises
    ------
    InputError
        Headed by the file, then one line per error: ``path: what is wrong (line N)``.
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        rows = []
        seen = set()
        for err in exc.errors():
            loc = _yaml_loc(tuple(err["loc"]), data, err["type"] == "missing")
            text = _describe(err)
            if err["type"] != "missing":
                loc, text = _point_at_named_key(loc, text, data)
            row = (loc, text)
            if row in seen:
                continue
            seen.add(row)
            line = line_of(lines, loc)
            rows.append(f"  {format_path(loc)}: {row[1]}" + (f" (line {line})" if line else ""))
        n = len(rows)
        raise InputError(f"{n} error{'s' if n != 1 else ''}:\n" + "\n".join(rows), file=file) from None
