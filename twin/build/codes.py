"""Source class codes (building use, land cover) mapped to the twin's classes through the build file's map.

Codes are matched as text: ``1``, ``1.0`` and ``"1"`` are the same code, ``"01000"`` keeps its
leading zero (quote such codes in YAML: an unquoted ``01000`` is the number 1000). Codes the map
does not list are an error listing each with its count, unless the map has a ``default`` class:
then they take it, with a warning that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.build.schema import BuildFile, ClassMap

#: Shown for a missing code (null, NaN) in messages and counts.
EMPTY = "(empty)"
#: Unmapped codes listed in a message.
_LISTED = 10


@dataclass(frozen=True)
class Classified:
    """Codes of the twin's classes, one per source value, and what the mapping did.

    Attributes
    ----------
    codes : numpy.ndarray of int8
        The twin's class code of each value.
    by_class : dict
        Class name -> number of values mapped to it.
    defaulted : dict
        Unmapped source code -> number of values that took the map's default class.
    """

    codes: np.ndarray
    by_class: dict
    defaulted: dict

    def warning(self, what: str, field: str, default: str) -> str | None:
        """The warning for values that took the default class, or None when none did."""
        if not self.defaulted:
            return None
        n = sum(self.defaulted.values())
        return (f"{field}: {n} {what} with codes the map does not list ({_listing(self.defaulted)}) took the "
                f"default class {default}")


def code_texts(values) -> np.ndarray:
    """Source values as the text they are matched by (:data:`EMPTY` for a missing value)."""
    series = pd.Series(values)
    out = np.full(len(series), EMPTY, dtype=object)
    present = series.notna().to_numpy()
    kept = series[present]
    if pd.api.types.is_numeric_dtype(kept) and not pd.api.types.is_bool_dtype(kept):
        numbers = kept.to_numpy(dtype=np.float64)
        whole = numbers == np.round(numbers)
        text = np.where(whole, np.round(numbers).astype(np.int64).astype(str), numbers.astype(str))
    else:
        text = kept.astype(str).to_numpy()
    out[present] = text
    return out


def _listing(counts: dict) -> str:
    """``'02000' 153, '14000' 3`` for the most frequent codes, ``and N more`` beyond."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{code if code == EMPTY else repr(code)} {n}" for code, n in ordered[:_LISTED])
    return shown + (f" and {len(ordered) - _LISTED} more codes" if len(ordered) > _LISTED else "")


def classify(bf: BuildFile, field: tuple, cmap: ClassMap, classes: dict, values, what: str,
             weights=None) -> Classified:
    """Map source codes to the twin's class codes.

    Parameters
    ----------
    bf : BuildFile
        The build file (for errors).
    field : tuple
        YAML path of the class map (e.g. ``("buildings", "use")``).
    cmap : ClassMap
        The map: our class name -> source codes, and the default class.
    classes : dict
        Our class name -> code (:data:`twin.core.classes.BUILDING_USE` or ``LANDCOVER``).
    values : array-like
        The source values (a column, or a raster's distinct codes).
    what : str
        What the values are, for messages (``"footprints"``).
    weights : array-like of int, optional
        How many items each value stands for (a raster's cells per distinct code); default 1 each.

    Raises
    ------
    InputError
        At ``field.map``, listing the unmapped codes and their counts, when there is no default.
    """
    texts = code_texts(values)
    unique, inverse = np.unique(texts.astype(str), return_inverse=True)
    counts = np.bincount(inverse, weights=weights, minlength=unique.size).astype(np.int64)
    lookup = {code: name for name, codes in cmap.map.items() for code in codes}
    unmapped = {str(u): int(n) for u, n in zip(unique, counts) if u not in lookup}
    if unmapped and cmap.default is None:
        n = sum(unmapped.values())
        raise bf.error(field + ("map",), f"{n} {what} have codes the map does not list ({_listing(unmapped)}); "
                       f"add them to the map, or set {field[-1]}.default to a class for them",
                       expected=f"codes listed under {', '.join(classes)}")
    names = [lookup.get(str(u), cmap.default) for u in unique]
    codes = np.array([classes[name] for name in names], dtype=np.int8)[inverse]
    by_class = {name: int(counts[[k for k, m in enumerate(names) if m == name]].sum()) for name in set(names)}
    return Classified(codes, dict(sorted(by_class.items())), unmapped)
