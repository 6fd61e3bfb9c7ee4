"""Hypothesis strategies of broken inputs for the fuzz tests of the command line (``test_fuzz_cli.py``).

Every strategy starts from a valid input and breaks it:

* YAML documents (scenarios, twin manifests), as a mapping first: values replaced by YAML scalars
  and structures (huge, negative, NaN and infinite numbers, ``.inf``, ``1e300``, strings, empty,
  lists, nested maps, booleans, null, raw YAML tokens such as tags, anchors and undefined
  aliases), keys deleted, unknown and optional keys added, odd paths (``..``, ``/``,
  ``/dev/zero``, ``/etc/passwd``, ``~nosuchuser``) and names (``.``, ``a/b``); then as text:
  lines duplicated (duplicate keys), deleted or inserted, anchors and aliases, tabs, very long
  values; then as bytes: truncation, random bytes, other encodings, a whole other content.
* Forecast netCDF files: bad values (NaN, inf, negative, 1e30) at a member, time and cell, times
  reversed or duplicated, the units attribute dropped or garbled, the variable renamed, the
  bytes truncated.

A drawn case carries the mutations that made it, so that a failing example hypothesis prints is
its own reproduction.

Notes
-----
Raw YAML tokens cannot be produced by dumping Python values; they are put into the mapping as
:class:`Raw` placeholders and substituted into the dumped text.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from hypothesis import strategies as st

#: Paths outside the test's folder that inputs may name; they are only ever read.
EXTERNAL_PATHS = ("/", "/dev/zero", "/dev/null", "/etc/passwd", "/proc/self/status", "/tmp",
                  "/nonexistent/twin.yaml")

#: Paths and names that try to leave their folder or are not names at all.
ODD_PATHS = (".", "..", "../..", "../" * 40, "a/b", "../escape", ".hidden", "", " ", "~", "~/x",
             "~nosuchuser/x", "a\0b", "n" * 300, "x" * 201, "twin.yaml", "dem.tif", "-", "*", "\\",
             "C:\\twin.yaml", "file:///etc/passwd", "runs/../../x")

#: Raw YAML tokens: special floats, YAML 1.1 oddities, tags, anchors and broken syntax.
RAW_TOKENS = (".inf", "-.inf", ".nan", ".NaN", "1e300", "1.0e+300", "1.0e+400", "-1.0e+400", "1e-400",
              "0x7fffffffffffffffffff", "0o777", "0b101", "1_000", "190:20:30", "~", "null", "yes", "off",
              "2024-13-01", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "!!binary aGVsbG8=",
              "!!set {a, b}", "!!python/object/apply:os.system [echo pwned]", "!!python/name:os.system",
              "!!float nan", "!!float 1e9999", "!!int 12", "!!int '1e9'", "!!str", "!!null ''",
              "!!omap [a: 1]", "!!timestamp 2024-02-30", "!custom 1", "[]", "{}", "&x 1", "*undefined",
              "'", "\"\\x\"", "{a: 1, a: 2}", "[" * 100 + "]" * 100, "{1: 2}", "{[1]: 2}", "{<<: {a: 1}}",
              "\"\\uD800\"", "\"\\0\"", "|", ">-", "? a", "- a", "a: b: c", "%YAML 1.1", "--- x", "... x",
              "5 min", "-5 min", "1e300 s", "nan s", "inf h", "10 years", "0 s", "1" + "0" * 5000)


@dataclass(frozen=True)
class Raw:
    """A raw YAML token put into a mapping in place of a value (see :data:`RAW_TOKENS`)."""

    token: str


_NUMBERS = st.one_of(
    st.integers(min_value=-2**70, max_value=2**70),
    st.floats(),
    st.sampled_from([0, -1, 1, 1e300, -1e300, 5e-324, -0.0, 2**63, 2**64 - 1, 2**64, 10**400,
                     math.nan, math.inf, -math.inf]),
)
_STRINGS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "1e300", "nan", ".inf", "5 min", "-5 min", "1e300 s", "inf h", "nan s", "10 years",
                     "free", "closed", "flood", "fire", "EPSG:4326", "x" * 100_001]),
    st.sampled_from(ODD_PATHS + EXTERNAL_PATHS),
)
_SCALARS = st.one_of(_NUMBERS, _STRINGS, st.booleans(), st.none())
_KEYS = st.one_of(st.text(min_size=1, max_size=10), st.integers(), st.booleans(), st.none())

#: Any value a mutation puts in place of another: scalars, raw tokens, lists and nested maps.
VALUES = st.one_of(
    _SCALARS,
    st.sampled_from(RAW_TOKENS).map(Raw),
    st.lists(_SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=8), _SCALARS, max_size=3),
    st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                       max_size=3), max_leaves=8),
)


@dataclass(frozen=True)
class Case:
    """A broken input: the mutations that made it and the bytes to write."""

    ops: tuple
    data: bytes

    def __repr__(self) -> str:
        ops, data = repr(self.ops), repr(self.data)
        ops, data = (text if len(text) <= 3000 else f"{text[:3000]}...({len(text)} characters)" for text in (ops, data))
        return f"Case(ops={ops},\n     data={data})"


def _node_paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """The path of every value under ``node`` (mapping keys and list indices), depth first."""
    paths = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        paths.append(prefix + (key,))
        paths.extend(_node_paths(value, prefix + (key,)))
    return paths


def _get(doc: dict, path: tuple):
    """The node at ``path`` in ``doc``."""
    node = doc
    for part in path:
        node = node[part]
    return node


def _set(doc: dict, path: tuple, value: object) -> None:
    """Set ``path`` in ``doc``, creating the mappings on the way (a scalar on the way is replaced)."""
    node = doc
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def dump_yaml(doc: object) -> str:
    """YAML text of ``doc`` with each :class:`Raw` written as its token."""
    raws: list[str] = []

    def swap(node):
        if isinstance(node, Raw):
            raws.append(node.token)
            return f"fuzzraw{len(raws) - 1}x"
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    text = yaml.safe_dump(swap(doc), sort_keys=False, allow_unicode=True, width=10**6)
    for k in reversed(range(len(raws))):  # fuzzraw10x before fuzzraw1x
        text = text.replace(f"fuzzraw{k}x", raws[k])
    return text


@st.composite
def _mapping_ops(draw, base: dict, optional: dict, paths: st.SearchStrategy) -> tuple[dict, list]:
    """Mutate a copy of ``base``: optional keys added, then values replaced, keys deleted or added."""
    doc = copy.deepcopy(base)
    ops = []
    for key in draw(st.lists(st.sampled_from(sorted(optional)), max_size=2, unique=True)):
        path = tuple(key.split("."))
        value = copy.deepcopy(draw(optional[key]))
        _set(doc, path, value)
        ops.append(("add", key, value))
    for _ in range(draw(st.integers(0, 3))):
        targets = _node_paths(doc)
        kind = draw(st.sampled_from(["replace", "replace", "delete", "add_unknown"]))
        if kind == "add_unknown" or not targets:
            holders = [()] + [p for p in targets if isinstance(_get(doc, p), dict)]
            holder = draw(st.sampled_from(holders))
            key, value = draw(_KEYS), draw(VALUES)
            _get(doc, holder)[key] = value
            ops.append(("add_unknown", holder, key, value))
            continue
        path = draw(st.sampled_from(targets))
        if kind == "delete":
            del _get(doc, path[:-1])[path[-1]]
            ops.append(("delete", path))
        else:
            value = draw(st.one_of(VALUES, paths))
            _get(doc, path[:-1])[path[-1]] = value
            ops.append(("replace", path, value))
    return doc, ops


_BILLION_LAUGHS = "".join(f"lol{k}: &l{k} [" + ", ".join([f"*l{k - 1}" if k else "lol"] * 9) + "]\n"
                          for k in range(10))
_WHOLE_FILES = (b"", b"\n", b"---\n", b"...\n", b"[]\n", b"- a\n- b\n", b"null\n", b"42\n", b"'text'\n",
                b"\x00" * 16, b"a: 1\n---\nb: 2\n", b"%YAML 9.9\n---\na: 1\n", b"\xef\xbb\xbf", b"{" * 10_000,
                b"- " * 5000 + b"x\n", _BILLION_LAUGHS.encode())


@st.composite
def _text_ops(draw, text: str) -> tuple[str, list]:
    """Mutate YAML text line-wise: duplicated, deleted or inserted lines, anchors and aliases, tabs."""
    ops = []
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        lines = text.splitlines(keepends=True) or [""]
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["duplicate_line", "delete_line", "insert_line", "anchor_alias", "tab",
                                     "long_value", "billion_laughs"]))
        if kind == "duplicate_line":
            lines.insert(i, lines[i])
            ops.append((kind, i))
        elif kind == "delete_line":
            del lines[i]
            ops.append((kind, i))
        elif kind == "insert_line":
            new = draw(st.one_of(st.text(max_size=20), st.sampled_from(RAW_TOKENS).map(lambda t: f"k: {t}")))
            lines.insert(i, new + "\n")
            ops.append((kind, i, new))
        elif kind == "anchor_alias":
            head, sep, tail = lines[i].partition(": ")
            lines[i] = f"{head}{sep}&fz {tail}" if sep else lines[i]
            lines.append("description: *fz\n")
            ops.append((kind, i))
        elif kind == "tab":
            lines[i] = "\t" + lines[i].lstrip(" ")
            ops.append((kind, i))
        elif kind == "long_value":
            n = draw(st.sampled_from([100_001, 5 * 2**20]))
            lines.append(f"description: {'x' * n}\n")
            ops.append((kind, n))
        else:
            lines.append(_BILLION_LAUGHS)
            ops.append((kind,))
        text = "".join(lines)
    return text, ops


@st.composite
def _byte_ops(draw, text: str) -> tuple[bytes, list]:
    """Encode ``text`` and maybe break the bytes: truncated, random bytes, another encoding, replaced."""
    kind = draw(st.sampled_from(["none"] * 9 + ["truncate", "insert_bytes", "encode", "whole"]))
    data = text.encode("utf-8")
    if kind == "truncate":
        n = draw(st.integers(0, max(len(data) - 1, 0)))
        return data[:n], [(kind, n)]
    if kind == "insert_bytes":
        at = draw(st.integers(0, len(data)))
        junk = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from([b"\xff", b"\xc3\x28", b"\x00",
                                                                                  b"\xed\xa0\x80", b"\x1b[2J"])))
        return data[:at] + junk + data[at:], [(kind, at, junk)]
    if kind == "encode":
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "utf-8-sig", "latin-1"]))
        return (text + "description: café\n").encode(encoding, errors="replace"), [(kind, encoding)]
    if kind == "whole":
        whole = draw(st.sampled_from(_WHOLE_FILES))
        return whole, [(kind, whole[:40])]
    return data, []


def mutated_yaml(base: dict, optional: dict, paths: st.SearchStrategy = st.nothing()) -> st.SearchStrategy:
    """Cases of ``base`` (a valid YAML mapping) broken as a mapping, then as text, then as bytes.

    Parameters
    ----------
    base : dict
        The valid document; may hold :class:`Raw` values.
    optional : dict
        ``"dotted.key" -> strategy`` of optional keys that may be added (before the other mutations,
        which may then break them).
    paths : strategy, optional
        More values for replacements (e.g. the names of odd files beside the document).

    Returns
    -------
    strategy of Case
    """
    @st.composite
    def cases(draw):
        doc, ops = draw(_mapping_ops(base, optional, paths))
        text, text_ops = draw(_text_ops(dump_yaml(doc)))
        data, byte_ops = draw(_byte_ops(text))
        return Case(tuple(ops + text_ops + byte_ops), data)

    return cases()


#: Values written into a forecast's rainfall: none of them is a possible rainfall intensity.
BAD_RAIN = (math.nan, math.inf, -math.inf, -1.0, -1e-3, 1e30, 1e6)


def _known_units(units: str) -> bool:
    """Whether the forecast reader accepts ``units`` (such a value would not break the file)."""
    from twin.io.rainfall import AMOUNT_UNITS, RATE_UNITS, _normalise_units

    return _normalise_units(units) in RATE_UNITS or _normalise_units(units) in AMOUNT_UNITS


@st.composite
def forecast_ops(draw, members: int, times: int, ny: int, nx: int) -> tuple:
    """Mutations of a forecast of ``members`` x ``times`` x ``ny`` x ``nx`` (see :func:`apply_forecast_ops`).

    One to three mutations of different kinds are drawn; each one alone makes the forecast invalid.
    """
    value = st.tuples(st.just("value"), st.integers(0, members - 1), st.integers(0, times - 1),
                      st.integers(0, ny - 1), st.integers(0, nx - 1), st.sampled_from(BAD_RAIN))
    garbage = st.one_of(st.sampled_from(["", "garbage", "K", "mm h-1 m", "mm per hour", "furlongs per fortnight",
                                         "\x00"]), st.text(min_size=1, max_size=8))
    units = st.tuples(st.just("units"), st.none() | garbage.filter(lambda u: not _known_units(u)))
    one = st.one_of(
        value,
        st.tuples(st.just("reverse_times")),
        st.tuples(st.just("duplicate_time"), st.integers(1, times - 1)),
        units,
        st.tuples(st.just("time_units"), st.sampled_from([None, "", "garbage", "hours since never", "days"])),
        st.tuples(st.just("rename_variable"), st.sampled_from(["rain", "Rainfall", "precip"])),
        st.tuples(st.just("coordinate_nan"), st.sampled_from(["lat", "lon"]), st.integers(0, min(ny, nx) - 1)),
        st.tuples(st.just("coordinate_swap"), st.sampled_from(["lat", "lon"]), st.integers(0, min(ny, nx) - 2)),
        st.tuples(st.just("bounds_gap"), st.integers(0, times - 2)),
        st.tuples(st.just("crs_wkt"), st.sampled_from(["", "garbage", "EPSG:999999", 'GEOGCS["x"]'])),
    )
    ops = draw(st.lists(one, min_size=1, max_size=3, unique_by=lambda op: op[0]))
    if draw(st.integers(0, 4)) == 0:
        ops.append(("truncate", draw(st.floats(0.0, 0.99))))
    return tuple(ops)


def apply_forecast_ops(path: Path, ops: tuple, variable: str = "rainfall") -> None:
    """Apply :func:`forecast_ops` mutations to the netCDF file ``path``, in place.

    Parameters
    ----------
    path : Path
        A forecast written by ``twin.samples.forecast.write_sample_forecast``.
    ops : tuple
        ``("value", member, time, row, col, v)``, ``("reverse_times",)``, ``("duplicate_time", k)``
        (time ``k`` set to time ``k - 1``), ``("units", text or None)`` (None drops it),
        ``("time_units", text or None)``, ``("rename_variable", name)``, ``("coordinate_nan", dim, k)``,
        ``("coordinate_swap", dim, k)`` (values ``k`` and ``k + 1`` swapped), ``("bounds_gap", k)``
        (interval ``k`` ends half-way), ``("crs_wkt", text)`` (the grid mapping's WKT),
        ``("truncate", fraction)`` (the bytes cut to that fraction of the file; last).
    variable : str
        The rainfall variable.
    """
    import netCDF4

    with netCDF4.Dataset(path, "r+") as ds:
        for op in ops:
            kind, args = op[0], op[1:]
            rain = ds[variable] if variable in ds.variables else None
            if kind == "value" and rain is not None:
                member, time, row, col, v = args
                rain[member, time, row, col] = v
            elif kind == "reverse_times":
                ds["time"][:] = ds["time"][::-1]
                ds["time_bnds"][:] = ds["time_bnds"][::-1]
            elif kind == "duplicate_time":
                k = args[0]
                ds["time"][k] = ds["time"][k - 1]
                ds["time_bnds"][k] = ds["time_bnds"][k - 1]
            elif kind in ("units", "time_units"):
                var = rain if kind == "units" else ds["time"]
                if var is None:
                    continue
                if args[0] is None:
                    var.delncattr("units")  # each kind is drawn once: the attribute is there
                else:
                    var.setncattr_string("units", args[0])
            elif kind == "rename_variable" and rain is not None:
                ds.renameVariable(variable, args[0])
            elif kind in ("coordinate_nan", "coordinate_swap"):
                dim, k = args
                values = np.array(ds[dim][:])
                if kind == "coordinate_nan":
                    values[k] = np.nan
                else:
                    values[[k, k + 1]] = values[[k + 1, k]]
                ds[dim][:] = values
            elif kind == "bounds_gap":
                k = args[0]
                ds["time_bnds"][k, 1] = (ds["time_bnds"][k, 0] + ds["time_bnds"][k, 1]) / 2
            elif kind == "crs_wkt":
                for name in ("crs_wkt", "spatial_ref"):
                    ds["spatial_ref"].setncattr_string(name, args[0])
    for kind, *args in ops:
        if kind == "truncate":
            data = path.read_bytes()
            path.write_bytes(data[:int(len(data) * args[0])])
