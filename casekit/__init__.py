"""casekit: score confidentiality-exception vignettes against explicit, jurisdiction-aware criteria."""

from casekit.errors import CasekitError, DataFormatError, RubricError
from casekit.model import Assessment, Finding, Vignette

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "CasekitError",
    "DataFormatError",
    "Finding",
    "RubricError",
    "Vignette",
    "__version__",
]
