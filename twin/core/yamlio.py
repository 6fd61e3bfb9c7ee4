"""Reading YAML safely, with the line number of every key and list item.

``load_yaml_with_lines(path)`` returns the parsed data and a map from field paths such as
``("flood", "inflows", 0, "discharge_m3_s")`` to 1-based line numbers, so that schema errors can say
where in the file the problem is.

The file is read once and parsed once, with bounds a scenario never comes near: only regular files
of at most :data:`MAX_YAML_BYTES` are read, nesting stops at :data:`MAX_YAML_DEPTH` levels, and
aliases (``*name``), merge keys (``<<``), duplicate keys and keys that are not text are refused
with the line. libyaml's parser is used when PyYAML has it; the node tree is composed by PyYAML's
composer (which refuses aliases before they are expanded and cannot overflow the C stack) and the
data are constructed from that tree by the safe constructor (no arbitrary objects).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError

from twin.core.errors import InputError

LinePath = tuple

MAX_YAML_BYTES = 4 * 2**20
"""Largest YAML input read, in bytes (a scenario or twin manifest is a few KB)."""

MAX_YAML_DEPTH = 32
"""Deepest nesting of mappings and lists accepted (a scenario nests about 5 levels)."""

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISSOCK, "a socket"))

if getattr(yaml, "CSafeLoader", None) is not None:
    class _EventLoader(Composer, yaml.CSafeLoader):
        """libyaml's parser and the safe constructor, with PyYAML's composer on top of the events."""

        def __init__(self, text: str):
            yaml.CSafeLoader.__init__(self, text)
            Composer.__init__(self)
else:  # PyYAML built without libyaml
    _EventLoader = yaml.SafeLoader


class _Loader(_EventLoader):
    """Composes a node tree without aliases and no deeper than :data:`MAX_YAML_DEPTH`.

    Parameters
    ----------
    text : str
        The YAML document.
    file : Path
        The file it came from (named in errors).
    """

    def __init__(self, text: str, file: Path):
        super().__init__(text)
        self.file = file
        self.depth = 0

    def compose_node(self, parent, index):
        """Compose one node, refusing an alias or one nesting level too many."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise InputError(f"YAML aliases are not supported in scenario files: write out the value "
                             f"instead of *{event.anchor}", file=self.file, line=event.start_mark.line + 1)
        if self.depth >= MAX_YAML_DEPTH:
            raise InputError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels", file=self.file,
                             line=event.start_mark.line + 1)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node, deep=False):
        """Construct one node; a value Python refuses (``2024-13-01``, a 5000-digit int) gets its line."""
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            raise ConstructorError(None, None, f"cannot read value: {exc}", node.start_mark) from None


def _file_kind(mode: int) -> str:
    """``"a directory"``, ``"a named pipe (FIFO)"``, … for a mode that is not a regular file's."""
    return next((name for is_kind, name in _FILE_KINDS if is_kind(mode)), "a special file")


def _check_file(st: os.stat_result, path: Path) -> None:
    """Refuse what is not a regular file, or a regular file larger than :data:`MAX_YAML_BYTES`."""
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file", file=path, expected="a YAML file", found=_file_kind(st.st_mode))
    if st.st_size > MAX_YAML_BYTES:
        raise InputError("file too large", file=path, expected=f"a YAML file of at most {MAX_YAML_BYTES} bytes",
                         found=f"{st.st_size} bytes")


def _os_error(exc: OSError, path: Path) -> InputError:
    """The InputError for a file that cannot be opened or read (missing, a link loop, no permission)."""
    if isinstance(exc, FileNotFoundError):
        return InputError("file not found", file=path)
    return InputError(f"cannot read file: {exc.strerror or exc}", file=path)


def _read_at_most(fh, n: int) -> bytes:
    """At most ``n`` bytes of the binary file ``fh``, read in pieces (one read of ``n`` reserves ``n`` bytes)."""
    pieces, size = [], 0
    while size < n and (piece := fh.read(min(2**16, n - size))):
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


def _read_bounded(path: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_YAML_BYTES`, checked before it is read.

    The file is checked before it is opened (a FIFO or a device is never opened) and again once it
    is open (the file read is the one checked); at most one byte more than the limit is read, since
    the size stat gives is not always the size read (``/proc`` files say 0).
    """
    try:
        _check_file(os.stat(path), path)
        fd = os.open(path, _OPEN_FLAGS)
        with open(fd, "rb") as fh:
            _check_file(os.fstat(fd), path)
            raw = _read_at_most(fh, MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise _os_error(exc, path) from None
    if len(raw) > MAX_YAML_BYTES:
        raise InputError("file too large", file=path, expected=f"a YAML file of at most {MAX_YAML_BYTES} bytes",
                         found=f"more than {MAX_YAML_BYTES} bytes")
    return raw


def _decode(raw: bytes, path: Path) -> str:
    """UTF-8 text, or an InputError with the line and the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=path, line=raw.count(b"\n", 0, exc.start) + 1,
                         expected="UTF-8", found=f"byte 0x{raw[exc.start]:02x} at offset {exc.start}") from None


def _node_kind(node: yaml.Node) -> str:
    """``"a list"``, ``"a mapping"``, or a scalar's type and text (``"int '1'"``)."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return f"{node.tag.rpartition(':')[2]} {node.value!r}"


def format_path(loc: tuple) -> str:
    """``("flood", "inflows", 0, "times")`` -> ``"flood.inflows[0].times"``, as in schema errors."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _check_key(key_node: yaml.Node, path: tuple, file: Path) -> None:
    """Refuse a merge key (``<<``) and a key that is not text (``1:``, ``yes:``, ``[a]:``)."""
    line = key_node.start_mark.line + 1
    if key_node.tag == _MERGE_TAG:
        raise InputError("YAML merge keys (<<) are not supported in scenario files: write the keys out",
                         file=file, field=format_path(path), line=line)
    if key_node.tag != _STR_TAG:
        raise InputError("a key must be text (quote it)", file=file, field=format_path(path), line=line,
                         expected="text", found=_node_kind(key_node))


def _walk_mapping(node: yaml.MappingNode, path: tuple, lines: dict, file: Path) -> None:
    """Record the line of each key, refusing keys that are not text and keys given twice."""
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        _check_key(key_node, path, file)
        key, line = key_node.value, key_node.start_mark.line + 1
        if key in seen:
            raise InputError(f"key {key!r} given twice (lines {seen[key]} and {line})", file=file,
                             field=format_path(path))
        seen[key] = line
        _walk(value_node, path + (key,), lines, file)
        lines[path + (key,)] = line  # the key's line, not its value's


def _walk(node: yaml.Node, path: tuple, lines: dict, file: Path) -> None:
    """Record the 1-based line of ``node`` and of everything under it in ``lines``."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        _walk_mapping(node, path, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines, file)


def _parse(text: str, path: Path) -> tuple[object, dict[LinePath, int]]:
    """Compose ``text`` once, take the lines from the node tree and construct the data from it."""
    loader = _Loader(text, path)
    try:
        node = loader.get_single_node()
        lines: dict[LinePath, int] = {}
        if node is None:
            return None, lines
        _walk(node, (), lines, path)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def load_yaml_with_lines(path: str | Path) -> tuple[object, dict[LinePath, int]]:
    """Read a YAML file with the safe loader and record line numbers.

    Parameters
    ----------
    path : str or Path
        The YAML file: a regular file of at most :data:`MAX_YAML_BYTES` bytes of UTF-8.

    Returns
    -------
    data : object
        The parsed document (dicts with text keys, lists, scalars).
    lines : dict
        Field path (tuple of keys and list indices) -> 1-based line number.

    Raises
    ------
    InputError
        When the file is missing, unreadable, not a regular file, too large, not UTF-8, or not
        valid YAML (with the line of the syntax error), or uses what scenario files do not allow:
        aliases, merge keys, a key given twice, a key that is not text, nesting deeper than
        :data:`MAX_YAML_DEPTH`.
    """
    path = Path(path)
    text = _decode(_read_bounded(path), path)
    try:
        return _parse(text, path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit (>= 0.2.5), met while it
            # scans ahead of our composer: the same refusal, in the same words
            raise InputError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels", file=path, line=line) from None
        what = exc.problem if exc.context is None else f"{exc.context}, {exc.problem}"
        raise InputError(f"invalid YAML: {what}", file=path, line=line) from None
    except yaml.reader.ReaderError as exc:
        raise InputError(f"invalid YAML: character #x{exc.character:04x}: {exc.reason}", file=path) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=path) from None


def line_of(lines: dict[LinePath, int], path: tuple) -> int | None:
    """Line of ``path``, or of its nearest ancestor that has one (None if none has)."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
