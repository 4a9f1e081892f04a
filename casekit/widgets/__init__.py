"""ipywidgets UIs (ipywidgets 8): each widget is a ``VBox`` usable on its own.

>>> from casekit.widgets import CaseExplorer  # doctest: +SKIP

Only this subpackage imports ipywidgets; the core modules never do.
"""

from casekit.widgets._common import AssessmentCache, data_dir
from casekit.widgets.panel import CriteriaPanel

__all__ = [
    "AssessmentCache",
    "CriteriaPanel",
    "data_dir",
]
