"""Reading YAML safely, with the line number of every key and list item.

``load_yaml_with_lines(path)`` returns the parsed data (``yaml.SafeLoader``: no arbitrary objects)
and a map from field paths such as ``("flood", "inflows", 0, "discharge_m3_s")`` to 1-based line
numbers, so that schema errors can say where in the file the problem is.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from twin.errors import InputError

LinePath = tuple


def _walk(node: yaml.Node, path: tuple, lines: dict) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _walk(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1  # the key's line, not its value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines)


def load_yaml_with_lines(path: str | Path) -> tuple[object, dict[LinePath, int]]:
    """Read a YAML file with the safe loader and record line numbers.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    data : object
        The parsed document (dicts, lists, scalars).
    lines : dict
        Field path (tuple of keys and list indices) -> 1-based line number.

    Raises
    ------
    InputError
        When the file is missing, unreadable, or not valid YAML (with the line of the syntax error).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=path) from None
    lines: dict[LinePath, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def line_of(lines: dict[LinePath, int], path: tuple) -> int | None:
    """Line of ``path``, or of its nearest ancestor that has one (None if none has)."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
