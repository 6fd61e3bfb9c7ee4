"""A report printed to PDF by headless Chromium (its print-to-PDF, the page's A4 print CSS)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from twin.core.atomic import atomic_path
from twin.core.errors import RunError

#: Names of the Chromium executable, tried in this order on PATH.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: Longest a print may take (s).
PRINT_TIMEOUT_S = 120.0


def find_chromium() -> str | None:
    """The path of a Chromium executable on PATH, or None."""
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def print_to_pdf(html_file: str | Path, pdf_file: str | Path) -> Path:
    """Print an HTML file to PDF with headless Chromium, atomically.

    Chromium runs with a fresh profile in a temporary folder, no sandbox, no GPU, no background
    networking or component updates, and without the page header and footer.

    Parameters
    ----------
    html_file : str or Path
        The page (self-contained: nothing is fetched).
    pdf_file : str or Path
        The PDF written.

    Returns
    -------
    Path
        ``pdf_file``.

    Raises
    ------
    RunError
        When Chromium is not on PATH, fails, times out or writes no PDF.
    """
    chromium = find_chromium()
    if chromium is None:
        raise RunError(f"cannot print {pdf_file}: no Chromium on PATH (tried {', '.join(CHROMIUM_NAMES)})")
    pdf_file = Path(pdf_file)
    with tempfile.TemporaryDirectory(prefix="twin-chromium-") as profile, atomic_path(pdf_file) as tmp:
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--no-first-run", "--no-pdf-header-footer",
                   f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", Path(html_file).resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise RunError(f"cannot print {pdf_file}: Chromium took over {PRINT_TIMEOUT_S:g} s") from None
        if done.returncode != 0 or not tmp.exists() or tmp.read_bytes()[:4] != b"%PDF":
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise RunError(f"cannot print {pdf_file}: Chromium exited with {done.returncode}"
                           f"{': ' + ' | '.join(tail) if tail else ''}")
    return pdf_file
