"""CriteriaPanel: why each criterion fired, shown on the vignette's own words."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from casekit.model import Assessment, Vignette
from casekit.rules import Rubric
from casekit.scoring import score
from casekit.widgets._common import ErrorBox, resolve_rubric
from casekit.widgets.render import (
    STYLE,
    assessment_html,
    checklist_html,
    highlight_html,
    notice_html,
    vignette_header_html,
)

__all__ = ["CriteriaPanel"]

EMPTY = "Choose a case to see which criteria fired and why."


class CriteriaPanel(W.VBox):
    """The vignette with its evidence highlighted, a criteria checklist and the decision.

    Parameters
    ----------
    vignette : Vignette, optional
        The case to show; ``None`` shows a prompt until :meth:`show` is called.
    rubric : Rubric or str, optional
        Default ``duty_to_protect``.
    assessment : Assessment, optional
        A precomputed assessment of ``vignette`` (e.g. from a cache); scored when omitted.
    jurisdiction : str, optional
        Overrides the vignette's jurisdiction when scoring.

    Attributes
    ----------
    header, text, checklist, decision : ipywidgets.HTML
        The parts, in display order. ``text.value`` holds the highlighted vignette.
    second_reader : ipywidgets.Checkbox
        Add the trained second reader (:mod:`casekit.reader`) for rubrics that have one: the
        case is re-scored with it and the sentences it fired on are underlined. Disabled for
        rubrics without a trained reader.
    assessment : Assessment or None
        What is shown.

    Examples
    --------
    >>> from casekit.model import Vignette
    >>> panel = CriteriaPanel(Vignette(id="v", text="He will shoot his wife tonight."))
    >>> panel.assessment.duty
    'required'
    """

    def __init__(
        self,
        vignette: Vignette | None = None,
        rubric: Rubric | str | None = None,
        *,
        assessment: Assessment | None = None,
        jurisdiction: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.rubric = resolve_rubric(rubric)
        self.jurisdiction = jurisdiction
        self.error = ErrorBox()
        self.header = W.HTML()
        self.text = W.HTML(layout=W.Layout(border="1px solid #ccc", padding="4px 8px"))
        self.checklist = W.HTML()
        self.decision = W.HTML()
        self.second_reader = W.Checkbox(
            description="second reader (trained sentence model; underlined)",
            indent=False,
            layout=W.Layout(width="auto"),
        )
        self.vignette: Vignette | None = None
        self.assessment: Assessment | None = None
        super().__init__(
            children=[
                self.error,
                self.header,
                W.HTML(
                    "<b>Vignette</b> — highlighted words fired a criterion (label after "
                    "each); struck-through words matched but were not counted."
                ),
                self.second_reader,
                self.text,
                W.HTML("<b>Criteria</b>"),
                self.checklist,
                W.HTML("<b>Decision</b>"),
                self.decision,
            ],
            **kwargs,
        )
        self.add_class("ck-criteria-panel")
        self._sync_reader()
        self.second_reader.observe(self._on_reader, names="value")
        if vignette is None:
            self.clear()
        else:
            self.show(vignette, assessment)

    def clear(self) -> None:
        self.vignette = None
        self.assessment = None
        self.header.value = STYLE + notice_html(EMPTY)
        self.text.value = ""
        self.checklist.value = ""
        self.decision.value = ""

    def show(
        self,
        vignette: Vignette,
        assessment: Assessment | None = None,
        rubric: Rubric | None = None,
    ) -> None:
        """Display ``vignette`` (scoring it unless ``assessment`` is given).

        With :attr:`second_reader` ticked the case is always re-scored with the reader.
        """
        if rubric is not None:
            self.rubric = rubric
            self._sync_reader()
        with self.error.catching():
            if self.second_reader.value and not self.second_reader.disabled:
                from casekit.reader import load_reader

                reader = load_reader(self.rubric.id)
                assessment = score(
                    vignette, self.rubric, jurisdiction=self.jurisdiction, reader=reader
                )
            elif assessment is None:
                assessment = score(vignette, self.rubric, jurisdiction=self.jurisdiction)
            self.vignette = vignette
            self.assessment = assessment
            self.header.value = STYLE + vignette_header_html(vignette)
            self.text.value = highlight_html(vignette.text, assessment.findings, self.rubric)
            self.checklist.value = checklist_html(assessment, self.rubric)
            self.decision.value = assessment_html(assessment, self.rubric)

    def _sync_reader(self) -> None:
        from casekit.reader import bundled_readers

        self.second_reader.disabled = self.rubric.id not in bundled_readers()

    def _on_reader(self, _: Any) -> None:
        if self.vignette is not None:
            self.show(self.vignette)
