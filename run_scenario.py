#!/usr/bin/env python
"""Run a scenario: ``python run_scenario.py scenarios/X.yaml [--out DIR]``; same as ``twin run``."""

import sys

from twin.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
