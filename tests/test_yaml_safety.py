"""Tests of safe, bounded YAML reading (twin.core.yamlio) and of short error messages (twin.core.errors).

Every bad input stops with an InputError naming the file, what was expected and what was found,
before any simulation and without a traceback: what is not a regular file is never read, a file
over the size limit is refused before it is parsed, aliases ("billion laughs") and merge keys are
refused with their line, a key given twice names both lines, a key that is not text is named.
The shipped scenarios still load, with the line of every key where the key is written.
"""

from __future__ import annotations

import importlib
import os
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

import twin.core.yamlio
from twin.cli import EXIT_BAD_INPUT, main
from twin.core.errors import FOUND_MAX_CHARS, InputError
from twin.hazards.registry import load_scenario
from twin.core.yamlio import MAX_YAML_BYTES, MAX_YAML_DEPTH, load_yaml_with_lines

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))


def _write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _error(path) -> str:
    with pytest.raises(InputError) as info:
        load_yaml_with_lines(path)
    return str(info.value)


def _laughs(levels: int = 9) -> str:
    """A "billion laughs" document: 9 ** levels strings once the aliases are expanded."""
    rows = ["lol0: &lol0 [" + ", ".join(["lol"] * 9) + "]"]
    rows += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(rows) + "\n"


def _rain_times(n_bytes: int) -> str:
    """A scenario whose rain times list makes the file about ``n_bytes`` long."""
    head = "name: long\ntwin: twin.yaml\nhazard: flood\nduration: 1 h\nflood:\n  rainfall:\n    times: ["
    count = (n_bytes - len(head) - 2) // 9
    return head + ", ".join(str(1_000_000 + i) for i in range(count)) + "]\n"


# ---------------------------------------------------------------- aliases, merge keys, nesting

def test_billion_laughs_is_refused_fast_at_low_memory(tmp_path):
    path = _write(tmp_path, _laughs(9), "laughs.yaml")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        msg = _error(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 2**20
    assert "laughs.yaml" in msg and "YAML aliases are not supported in scenario files" in msg
    assert "*lol0" in msg and msg.endswith("(line 2)")


def test_alias_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path, """
        name: demo
        duration: &d 2 h
        twin: twin.yaml
        hazard: flood
        output:
          every: *d
    """)
    msg = _error(path)
    assert "YAML aliases are not supported" in msg and "*d" in msg and msg.endswith("(line 6)")


def test_merge_key_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path, """
        name: demo
        flood:
          numerics:
            <<: {theta: 0.7}
    """)
    msg = _error(path)
    assert "flood.numerics: YAML merge keys (<<) are not supported" in msg and msg.endswith("(line 4)")


def test_deep_nesting_is_refused_not_a_crash(tmp_path):
    """100 000 nested lists used to overflow libyaml's C stack (segmentation fault)."""
    path = _write(tmp_path, "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    msg = _error(path)
    assert f"YAML nested deeper than {MAX_YAML_DEPTH} levels" in msg and msg.endswith("(line 1)")


# ---------------------------------------------------------------- what is read, and how much

@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading():
    start = time.perf_counter()
    msg = _error("/dev/zero")
    assert time.perf_counter() - start < 1.0
    assert msg == "/dev/zero: not a regular file (expected a YAML file, found a character device)"


def test_directory_is_refused(tmp_path):
    msg = _error(tmp_path)
    assert msg == f"{tmp_path}: not a regular file (expected a YAML file, found a directory)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    messages = []
    reader = threading.Thread(target=lambda: messages.append(_error(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert messages == [f"{fifo}: not a regular file (expected a YAML file, found a named pipe (FIFO))"]


def test_oversize_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as fh:
        fh.truncate(30 * 2**20)  # sparse: 30 MiB of size, nothing to read quickly
    start = time.perf_counter()
    msg = _error(path)
    assert time.perf_counter() - start < 1.0
    assert msg == (f"{path}: file too large (expected a YAML file of at most {MAX_YAML_BYTES} bytes, "
                   f"found {30 * 2**20} bytes)")


def test_file_larger_than_its_stat_size_is_cut_at_the_limit(monkeypatch):
    """/proc files report size 0; what is read is bounded all the same."""
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("no /proc")
    monkeypatch.setattr(twin.core.yamlio, "MAX_YAML_BYTES", 64)
    assert status.stat().st_size <= 64
    msg = _error(status)
    assert msg == f"{status}: file too large (expected a YAML file of at most 64 bytes, found more than 64 bytes)"


def test_file_just_under_the_limit_parses_in_a_few_seconds(tmp_path):
    """A 29 MB list of rain times used to take over 200 s and 4.4 GB; the limit's worth must not."""
    path = _write(tmp_path, _rain_times(MAX_YAML_BYTES - 100), "long.yaml")
    assert MAX_YAML_BYTES - 200 < path.stat().st_size <= MAX_YAML_BYTES
    start = time.perf_counter()
    data, lines = load_yaml_with_lines(path)
    elapsed = time.perf_counter() - start
    times = data["flood"]["rainfall"]["times"]
    assert len(times) > 400_000 and times[:2] == [1_000_000, 1_000_001]
    assert lines[("flood", "rainfall", "times", len(times) - 1)] == 7
    assert elapsed < 15.0, f"{elapsed:.1f} s"


def test_symlink_loop_is_named(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.symlink_to(b)
    b.symlink_to(a)
    msg = _error(a)
    assert msg.startswith(f"{a}: cannot read file: ") and "symbolic links" in msg


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_named(tmp_path):
    path = _write(tmp_path, "name: demo\n")
    path.chmod(0)
    assert _error(path) == f"{path}: cannot read file: Permission denied"


def test_path_through_a_file_is_named(tmp_path):
    path = _write(tmp_path, "name: demo\n")
    assert _error(path / "twin.yaml") == f"{path / 'twin.yaml'}: cannot read file: Not a directory"


def test_missing_file_is_named(tmp_path):
    assert _error(tmp_path / "nowhere.yaml") == f"{tmp_path / 'nowhere.yaml'}: file not found"


def test_non_utf8_bytes_are_named_with_their_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: demo\ndescription: Daejeon café\n".encode("latin-1"))
    msg = _error(path)
    assert msg == f"{path}: not UTF-8 text (expected UTF-8, found byte 0xe9 at offset 35) (line 2)"


def test_control_character_is_invalid_yaml(tmp_path):
    path = _write(tmp_path, "name: demo\ndescription: a\x01b\n")
    assert _error(path) == f"{path}: invalid YAML: character #x0001: control characters are not allowed"


# ---------------------------------------------------------------- keys and values

def test_duplicate_top_level_key_names_both_lines(tmp_path):
    path = _write(tmp_path, """
        name: demo
        twin: twin.yaml
        duration: 3 h
        hazard: flood
        seed: 1
        output: {every: 10 min}
        duration: 1 h
    """)
    assert _error(path) == f"{path}: (top level): key 'duration' given twice (lines 3 and 7)"


def test_duplicate_nested_key_names_its_path_and_both_lines(tmp_path):
    path = _write(tmp_path, """
        name: demo
        flood:
          inflows:
            - name: upstream
              discharge_m3_s: 10
              "discharge_m3_s": 20
    """)
    assert _error(path) == f"{path}: flood.inflows[0]: key 'discharge_m3_s' given twice (lines 5 and 6)"


@pytest.mark.parametrize("text, found, line", [
    ("name: demo\n1: x\n", "int '1'", 2),
    ("name: demo\nflood:\n  yes: 1\n", "bool 'yes'", 3),
    ("name: demo\n[a]: b\n", "a list", 2),
    ("name: demo\n? {a: 1}\n: b\n", "a mapping", 2),
])
def test_key_that_is_not_text_is_named(tmp_path, text, found, line):
    path = _write(tmp_path, text)
    msg = _error(path)
    assert msg.startswith(f"{path}: ") and "a key must be text (quote it)" in msg
    assert msg.endswith(f"(expected text, found {found}) (line {line})")


def test_quoted_number_key_is_text(tmp_path):
    data, lines = load_yaml_with_lines(_write(tmp_path, "'1': x\n"))
    assert data == {"1": "x"} and lines[("1",)] == 1


@pytest.mark.parametrize("value", ["2024-13-01", "9" * 5000], ids=["month 13", "5000 digits"])
def test_value_python_refuses_is_invalid_yaml_with_its_line(tmp_path, value):
    path = _write(tmp_path, f"name: demo\nseed: {value}\n")
    msg = _error(path)
    assert msg.startswith(f"{path}: invalid YAML: cannot read value: ") and msg.endswith("(line 2)")


def test_python_tag_is_refused_after_a_single_parse(tmp_path):
    marker = tmp_path / "executed"
    path = _write(tmp_path, f'name: demo\nseed: !!python/object/apply:os.system ["touch {marker}"]\n')
    msg = _error(path)
    assert "invalid YAML: could not determine a constructor" in msg and msg.endswith("(line 2)")
    assert not marker.exists()


def test_several_documents_are_invalid_yaml(tmp_path):
    path = _write(tmp_path, "name: a\n---\nname: b\n")
    assert _error(path) == (f"{path}: invalid YAML: expected a single document in the stream, "
                            "but found another document (line 2)")


def test_empty_file_is_none_with_no_lines(tmp_path):
    assert load_yaml_with_lines(_write(tmp_path, "# nothing\n")) == (None, {})


# ---------------------------------------------------------------- the shipped scenarios

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_loads_with_the_line_of_every_key(path):
    """Same data as PyYAML's safe loader; each key's line is the line the key is written on."""
    load_scenario(path)
    data, lines = load_yaml_with_lines(path)
    assert data == yaml.safe_load(path.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8").splitlines()
    keys = [p for p in lines if p and isinstance(p[-1], str)]
    assert keys and all(f"{p[-1]}:" in text[lines[p] - 1] for p in keys)
    top = [(k,) for k in data]
    assert all(text[lines[p] - 1].startswith(f"{p[0]}:") for p in top)


def test_list_items_get_their_own_lines(tmp_path):
    path = _write(tmp_path, """
        output:
          gauges:
            - {name: a, at: [1, 2]}
            - name: b
              at: [3, 4]
    """)
    _, lines = load_yaml_with_lines(path)
    assert lines[("output", "gauges", 0)] == 3 and lines[("output", "gauges", 1)] == 4
    assert lines[("output", "gauges", 1, "at")] == 5 and lines[("output", "gauges", 1, "at", 1)] == 5


@pytest.fixture
def pure_python_yamlio(monkeypatch):
    """twin.core.yamlio as built when PyYAML has no libyaml; restored afterwards."""
    monkeypatch.delattr(yaml, "CSafeLoader")
    yield importlib.reload(twin.core.yamlio)
    monkeypatch.undo()
    importlib.reload(twin.core.yamlio)


def test_without_libyaml_the_same_checks_and_lines(tmp_path, pure_python_yamlio):
    assert pure_python_yamlio._Loader.__mro__[1] is yaml.SafeLoader
    path = ROOT / "scenarios" / "sample_flash_flood.yaml"
    assert pure_python_yamlio.load_yaml_with_lines(path) == load_yaml_with_lines(path)
    laughs = _write(tmp_path, _laughs(9), "laughs.yaml")
    with pytest.raises(InputError, match=r"YAML aliases are not supported.*\(line 2\)"):
        pure_python_yamlio.load_yaml_with_lines(laughs)
    dup = _write(tmp_path, "a: 1\nb: 2\na: 3\n")
    with pytest.raises(InputError, match=r"key 'a' given twice \(lines 1 and 3\)"):
        pure_python_yamlio.load_yaml_with_lines(dup)


# ---------------------------------------------------------------- the command line

@pytest.mark.parametrize("make, expect", [
    (lambda d: _write(d, _laughs(9), "laughs.yaml"), "YAML aliases are not supported"),
    (lambda d: _write(d, "twin: t.yaml\nhazard: flood\nduration: 1 h\nduration: 2 h\n"),
     "key 'duration' given twice (lines 3 and 4)"),
    (lambda d: d, "not a regular file"),
    (lambda d: Path("/dev/zero"), "found a character device"),
])
def test_cli_validate_exits_2_with_one_line_and_no_traceback(tmp_path, capsys, make, expect):
    path = make(tmp_path)
    if not path.exists():
        pytest.skip(f"no {path}")
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Traceback" not in err and expect in err and str(path) in err
    assert err.count("\n") == 1


# ---------------------------------------------------------------- errors never echo a whole file

def test_long_found_is_cut_with_its_full_length():
    found = "root:x:0:0:root:/root:/bin/bash " * 50
    msg = str(InputError("not a twin", file="s.yaml", expected="a mapping", found=found))
    assert msg == (f"s.yaml: not a twin (expected a mapping, found {found[:FOUND_MAX_CHARS]}… "
                   f"({len(found)} characters in all))")


def test_short_found_is_kept_whole():
    assert str(InputError("bad", expected="a duration", found="3 h")) == "bad (expected a duration, found 3 h)"


def test_twin_pointing_at_a_text_file_does_not_echo_it(tmp_path, capsys):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("".join(f"line {i} of some text that is not a twin manifest\n" for i in range(100)))
    scenario = _write(tmp_path, f"twin: {text_file}\nhazard: flood\nduration: 1 h\n")
    assert main(["validate", str(scenario)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "line 99 of" not in err and len(err) < 1000


def test_control_characters_in_names_are_shown_escaped():
    """A file name or value cannot move the cursor or recolour the terminal."""
    text = str(InputError("2 errors:\n  x: bad", file="run\x1b[31m\tname", found="\x07"))
    assert text == "run\\x1b[31m\\tname: 2 errors:\n  x: bad (found \\x07)"
