#!/bin/sh
# The Debian packages the README's commands need, installed only where they are missing and only
# where installing is possible (root, or passwordless sudo, and apt-get).
#
#   sh .ci/system-packages.sh NEED...
#
#   venv      python3-venv: `python3 -m venv` needs ensurepip, which Debian ships apart. Required:
#             when it is missing and cannot be installed, this script says how and exits 1.
#   chromium  chromium: the browser check of the HTML view (tests/test_viz_html.py skips without it).
#   udunits   libudunits2-0: the CF conventions check of the outputs (skips without it).
#
# Where nothing is missing, nothing is run (no apt-get, no root needed). Where something optional is
# missing and cannot be installed, the script says which tests will skip and exits 0.
set -eu

missing=""
required=""
for need in "$@"; do
  case "$need" in
    venv)
      if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        missing="$missing python3-venv"
        required="$required python3-venv"
      fi ;;
    chromium)
      command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        missing="$missing chromium" ;;
    udunits)
      python3 -c 'import ctypes.util, sys; sys.exit(ctypes.util.find_library("udunits2") is None)' 2>/dev/null ||
        missing="$missing libudunits2-0" ;;
    *)
      echo "$0: unknown need '$need' (expected venv, chromium or udunits)" >&2
      exit 2 ;;
  esac
done

if [ -z "$missing" ]; then
  echo "system packages: nothing to install (checked: $*)"
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  as_root="-"
fi

if [ "$as_root" != "-" ] && command -v apt-get >/dev/null 2>&1; then
  echo "system packages: installing$missing"
  # shellcheck disable=SC2086  # $as_root and $missing are word lists
  $as_root apt-get update -qq
  # shellcheck disable=SC2086
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  exit 0
fi

if [ "$as_root" = "-" ]; then why="not root and no passwordless sudo"; else why="no apt-get"; fi
echo "system packages: not installing$missing ($why)"
if [ -n "$required" ]; then
  echo "error: python3 -m venv needs$required; install it as root: apt-get install -y$required" >&2
  exit 1
fi
echo "system packages: the tests that need them will skip"
