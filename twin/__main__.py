"""``python -m twin``: the ``twin`` command (:mod:`twin.cli`)."""

import sys

from twin.cli import main

if __name__ == "__main__":
    sys.exit(main())
