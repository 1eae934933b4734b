"""``python -m lensml`` is the ``lensml`` command."""

import sys

from lensml.cli import main

sys.exit(main())
