""".ci/system-packages.sh installs Debian packages only where they are missing and it may, and the
README's two commands install into their own virtual environment.

The script runs with a PATH of stand-ins (python3, id, apt-get, sudo, chromium), so that each
case (root or not, package present or not) is played without touching the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "system-packages.sh"
SH = shutil.which("sh")
ENV_BIN = shutil.which("env")

pytestmark = pytest.mark.skipif(SH is None or ENV_BIN is None, reason="no sh or env")


def _stand_ins(folder: Path, *, uid: int, ensurepip: bool = True, udunits: bool = True,
               chromium: bool = True, sudo: bool = False) -> Path:
    """A bin folder: python3 answering the script's two checks, id -u, apt-get logging its calls."""
    folder.mkdir()
    scripts = {
        "python3": f'case "$*" in *ensurepip*) exit {0 if ensurepip else 1};; '
                   f'*udunits2*) exit {0 if udunits else 1};; esac; exit 0',
        "id": f"echo {uid}",
        "apt-get": f'echo "apt-get $*" >> {folder / "apt.log"}',
    }
    if chromium:
        scripts["chromium"] = "exit 0"
    if sudo:
        scripts["sudo"] = '[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; exec "$@"'
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!{SH}\n{body}\n")
        path.chmod(0o755)
    (folder / "env").symlink_to(ENV_BIN)
    return folder


def _run(folder: Path, *needs: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    done = subprocess.run([SH, str(SCRIPT), *needs], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(folder)})
    log = folder / "apt.log"
    return done, log.read_text().splitlines() if log.exists() else []


def test_nothing_present_is_reinstalled_and_no_root_is_needed(tmp_path):
    done, apt = _run(_stand_ins(tmp_path / "bin", uid=1000), "venv", "chromium", "udunits")
    assert done.returncode == 0 and apt == []
    assert done.stdout == "system packages: nothing to install (checked: venv chromium udunits)\n"


def test_optional_packages_missing_without_root_are_named_and_skipped(tmp_path):
    done, apt = _run(_stand_ins(tmp_path / "bin", uid=1000, chromium=False, udunits=False),
                     "venv", "chromium", "udunits")
    assert done.returncode == 0 and apt == []
    assert done.stdout == ("system packages: not installing chromium libudunits2-0 "
                           "(not root and no passwordless sudo)\n"
                           "system packages: the tests that need them will skip\n")


def test_missing_venv_without_root_stops_with_the_command_to_run(tmp_path):
    done, apt = _run(_stand_ins(tmp_path / "bin", uid=1000, ensurepip=False), "venv")
    assert done.returncode == 1 and apt == []
    assert done.stderr == ("error: python3 -m venv needs python3-venv; install it as root: "
                           "apt-get install -y python3-venv\n")


@pytest.mark.parametrize("uid, sudo", [(0, False), (1000, True)])
def test_root_or_passwordless_sudo_installs_only_what_is_missing(tmp_path, uid, sudo):
    done, apt = _run(_stand_ins(tmp_path / "bin", uid=uid, chromium=False, ensurepip=False, sudo=sudo),
                     "venv", "chromium", "udunits")
    assert done.returncode == 0, done.stderr
    assert apt == ["apt-get update -qq", "apt-get install -y -qq python3-venv chromium"]


def test_an_unknown_need_is_refused(tmp_path):
    done, _ = _run(_stand_ins(tmp_path / "bin", uid=0), "chromiun")
    assert done.returncode == 2 and "unknown need 'chromiun'" in done.stderr


@pytest.mark.parametrize("marker, install", [
    ("main-command", "pip install -e . --config-settings editable_mode=compat"),
    ("test-command", 'pip install -e ".[test]" --config-settings editable_mode=compat')])
def test_readme_commands_install_into_their_own_virtual_environment(marker, install):
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- {marker} -->\n```bash\n(.*)\n```\n<!-- /{marker} -->", readme).group(1)
    steps = block.split(" && ")
    assert steps[0].startswith("sh .ci/system-packages.sh venv")
    assert steps[1:4] == ["python3 -m venv .venv", ". .venv/bin/activate", install]
