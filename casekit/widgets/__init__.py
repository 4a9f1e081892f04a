"""ipywidgets UIs (ipywidgets 8): each widget is a ``VBox`` usable on its own.

>>> from casekit.widgets import CaseExplorer  # doctest: +SKIP

Only this subpackage imports ipywidgets; the core modules never do. Errors caused by input
(:class:`~casekit.errors.CasekitError`) show in a red box inside the widget; anything else
propagates.
"""

from casekit.widgets._common import AssessmentCache, data_dir
from casekit.widgets.app import SeminarApp
from casekit.widgets.dashboard import ResponseDashboard
from casekit.widgets.explorer import CaseExplorer
from casekit.widgets.panel import CriteriaPanel
from casekit.widgets.quiz import Quiz
from casekit.widgets.whatif import WhatIf

__all__ = [
    "AssessmentCache",
    "CaseExplorer",
    "CriteriaPanel",
    "Quiz",
    "ResponseDashboard",
    "SeminarApp",
    "WhatIf",
    "data_dir",
]
