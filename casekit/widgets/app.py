"""The seminar app served by Voilà: explorer, quiz and the room's answers in tabs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as W

from casekit.widgets._common import data_dir
from casekit.widgets.dashboard import ResponseDashboard
from casekit.widgets.explorer import CaseExplorer
from casekit.widgets.quiz import Quiz
from casekit.widgets.whatif import WhatIf

__all__ = ["RESPONSES_ENV", "SeminarApp", "instructor_from_query", "responses_path"]

#: Environment variable naming the CSV the seminar's answers go to (shared by every
#: browser connected to one Voilà server: each page runs its own kernel).
RESPONSES_ENV = "CASEKIT_RESPONSES"
DEFAULT_RESPONSES = "seminar_responses.csv"
TAB_TITLES = ("Explore cases", "Answer a case", "The room's answers", "What if…")


def instructor_from_query(query: str | None = None) -> bool:
    """Whether the page was opened as ``...?instructor=1`` (Voilà passes the query string
    to the kernel as ``$QUERY_STRING``)."""
    if query is None:
        query = os.environ.get("QUERY_STRING", "")
    values = parse_qs(query).get("instructor", [])
    return any(v.lower() in ("1", "true", "yes") for v in values)


def responses_path() -> Path:
    """Where seminar answers are written: ``$CASEKIT_RESPONSES`` or ``seminar_responses.csv``."""
    return Path(os.environ.get(RESPONSES_ENV) or DEFAULT_RESPONSES)


class SeminarApp(W.VBox):
    """Explorer, quiz, response dashboard and WhatIf in a Tab; answers refresh the dashboard.

    Parameters
    ----------
    responses : path, optional
        The shared answers CSV (default :func:`responses_path`).
    reveal : bool
        Show feedback immediately (practice) or wait for the instructor's reveal.
    instructor : bool, optional
        Show the reveal switch. Default: only when the page URL ends in ``?instructor=1``.
        Students' pages follow the instructor's reveal within a few seconds.
    poll : float
        Seconds between checks of the shared answers file and reveal flag (in Voilà).
    """

    def __init__(
        self,
        responses: str | os.PathLike[str] | None = None,
        *,
        reveal: bool = False,
        instructor: bool | None = None,
        poll: float = 2.0,
        **kwargs: Any,
    ) -> None:
        path = Path(responses) if responses is not None else responses_path()
        if instructor is None:
            instructor = instructor_from_query()
        rubric_cases = data_dir() / "vignettes" / "duty_to_protect.yaml"
        self.explorer = CaseExplorer()
        self.quiz = Quiz(rubric_cases, reveal=reveal, save_to=path, instructor=instructor)
        self.dashboard = ResponseDashboard(path, vignettes=rubric_cases, poll=poll)
        self.quiz.on_submit(lambda _: self.dashboard.refresh())
        self.what_if = WhatIf(self.quiz.vignettes[0] if self.quiz.vignettes else None)
        self.tabs = W.Tab(children=[self.explorer, self.quiz, self.dashboard, self.what_if])
        for i, title in enumerate(TAB_TITLES):
            self.tabs.set_title(i, title)
        super().__init__(
            children=[
                W.HTML(
                    "<h2>casekit seminar</h2><p>Explore cases and why criteria fire; answer a "
                    "case; see how the room answered. A teaching aid, not legal advice.</p>"
                ),
                self.tabs,
            ],
            **kwargs,
        )
        self.add_class("ck-seminar-app")
