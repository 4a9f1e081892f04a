"""casekit: score confidentiality-exception vignettes against explicit, jurisdiction-aware criteria.

>>> import casekit
>>> a = casekit.score(casekit.Vignette(id="v1", text="He says he will stab his roommate tonight."))
>>> a.duty, a.action
('required', 'warn_and_notify')
"""

from casekit.errors import CasekitError, DataFormatError, RubricError
from casekit.io import read_vignettes, write_vignettes
from casekit.model import Assessment, Finding, Vignette
from casekit.rules import Rubric, load_rubric
from casekit.scoring import compare_jurisdictions, score, score_frame

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "CasekitError",
    "DataFormatError",
    "Finding",
    "Rubric",
    "RubricError",
    "Vignette",
    "__version__",
    "compare_jurisdictions",
    "load_rubric",
    "read_vignettes",
    "score",
    "score_frame",
    "write_vignettes",
]
