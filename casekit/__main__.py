"""``python -m casekit``: the same command line as the ``casekit`` script."""

import sys

from casekit.cli import main

sys.exit(main())
