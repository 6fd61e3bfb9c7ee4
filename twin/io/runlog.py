"""Logs of the command line, a run and a batch: events as JSON lines, and the console.

One record shape everywhere (``run.log`` in a run folder, ``batch.log`` in a batch folder, the
file of ``--log-file``): one JSON object per line with ``time`` (ISO 8601, UTC, milliseconds),
``level`` (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``), ``event`` (a fixed name, e.g.
``control_run_done``), ``message`` (words) and the event's own fields (e.g. ``stage``,
``member``, ``seconds``).

:class:`EventLog` writes every event into its file whatever the log level, and passes it on to
the ``twin`` logger (:data:`LOGGER`); :func:`cli_logging` is the command line's setup of that
logger: the console on stderr (``-q`` errors only, default ``INFO``, ``-v`` ``DEBUG``) and,
with ``--log-file``, the same JSON lines appended to a file.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from twin.core.errors import InputError

#: The logger of the project; the command line gives it its handlers (:func:`cli_logging`).
LOGGER = logging.getLogger("twin")


def _utc(timestamp: float | None = None) -> str:
    """``timestamp`` (s since the epoch; default now) as ISO 8601 UTC with milliseconds."""
    when = datetime.now(timezone.utc) if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc)
    return when.isoformat(timespec="milliseconds")


def append_json_line(path: Path, record: dict) -> None:
    """Append ``record`` to ``path`` as one JSON line (the file is opened and closed per record,
    so that the lines written survive a crash of the writer)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")


def _record(time: str, level: str, event: str, message: str, fields: dict) -> dict:
    """The JSON line of one event (the module docstring's shape)."""
    return {"time": time, "level": level, "event": event, "message": message, **fields}


def _with_fields(text: str, fields: dict) -> str:
    """``text key=value …``."""
    return " ".join([text, *(f"{k}={v}" for k, v in fields.items())])


class EventLog:
    """Events of a run or a batch: one JSON line each in ``path``, and a record of :data:`LOGGER`.

    Parameters
    ----------
    path : Path
        The JSON-lines file (``run.log``, ``batch.log``); every event is written, at any level.
    echo : callable, optional
        ``echo(text)`` shows each event as a line of text instead of passing it to the logger
        (e.g. a test that keeps the console quiet).
    """

    def __init__(self, path: Path, echo: Callable[[str], None] | None = None):
        self.path = path
        self.echo = echo

    def __call__(self, event: str, message: str | None = None, *, level: int = logging.INFO, **fields) -> None:
        """Record ``event`` with its ``fields``; the console shows ``message``, or without one the
        event's name and its fields."""
        time = _utc()
        append_json_line(self.path, _record(time, logging.getLevelName(level), event, message or event, fields))
        text = message or _with_fields(event, fields)
        if self.echo is not None:
            self.echo(f"[{time}] {text}")
        else:
            LOGGER.log(level, text, extra={"event": event, "fields": fields, "utc": time, "plain": message or event})


class JsonLinesHandler(logging.Handler):
    """A logging handler appending each record to a file as :class:`EventLog`'s JSON line."""

    def __init__(self, path: Path, level: int = logging.NOTSET):
        super().__init__(level)
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            append_json_line(self.path, _record(getattr(record, "utc", None) or _utc(record.created),
                                                record.levelname, getattr(record, "event", record.name),
                                                getattr(record, "plain", None) or record.getMessage(),
                                                getattr(record, "fields", {})))
        except Exception:  # a log that cannot be written must not end the run; logging reports it
            self.handleError(record)


class _Console(logging.Handler):
    """Records as lines of text on the current ``sys.stderr``; a record with ``console=False``
    (a message the command printed already) is left to the other handlers."""

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "console", True):
            return
        try:
            time = getattr(record, "utc", None) or _utc(record.created)
            print(f"[{time}] {record.getMessage()}", file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def console_level(verbose: int, quiet: bool) -> int:
    """The console's log level: ``ERROR`` when quiet, ``INFO`` by default, ``DEBUG`` with ``-v``."""
    if quiet:
        return logging.ERROR
    return logging.DEBUG if verbose > 0 else logging.INFO


def _check_log_file(path: Path) -> None:
    """A ``--log-file`` must be a file that can be appended to, in an existing folder.

    Raises
    ------
    InputError
        Naming ``--log-file`` and the path.
    """
    if path.is_dir():
        raise InputError("--log-file is a folder; give a file", file=path)
    if not path.parent.is_dir():
        raise InputError("--log-file's folder does not exist", file=path)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(f"--log-file cannot be written: {exc.strerror}", file=path) from None


@contextmanager
def cli_logging(verbose: int = 0, quiet: bool = False, log_file: str | Path | None = None):
    """Give :data:`LOGGER` the command line's handlers for the block; restore it after.

    Parameters
    ----------
    verbose : int
        ``-v`` given this many times: ``DEBUG`` on the console.
    quiet : bool
        ``-q``: errors only on the console.
    log_file : str or Path, optional
        ``--log-file``: every record from ``DEBUG`` on, appended as JSON lines.

    Raises
    ------
    InputError
        When ``log_file`` cannot be written (before anything is logged).
    """
    level = console_level(verbose, quiet)
    handlers: list[logging.Handler] = [_Console(level)]
    if log_file is not None:
        path = Path(log_file)
        _check_log_file(path)
        handlers.append(JsonLinesHandler(path, logging.DEBUG))
    saved = (LOGGER.level, LOGGER.propagate)
    LOGGER.setLevel(min(h.level for h in handlers))
    LOGGER.propagate = False
    for handler in handlers:
        LOGGER.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            LOGGER.removeHandler(handler)
        LOGGER.setLevel(saved[0])
        LOGGER.propagate = saved[1]
