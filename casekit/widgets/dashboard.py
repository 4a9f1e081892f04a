"""ResponseDashboard: how the room answered, against the rubric, with agreement figures."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from casekit.errors import CasekitError
from casekit.io import read_vignettes
from casekit.model import Vignette
from casekit.response_tables import ResponseTable, read_responses
from casekit.rules import Rubric
from casekit.scoring import score
from casekit.widgets._common import ErrorBox, Poller, data_dir, resolve_rubric
from casekit.widgets.render import STYLE, _e, notice_html

__all__ = ["NO_GROUP", "ResponseDashboard", "figure_png", "key_frame"]

NO_GROUP = "(no grouping)"
#: Chart choices.
DISTRIBUTION, AGREEMENT = "answers per case", "agreement with the rubric"
AGREEMENT_BOOT = 200  # bootstrap replicates for the kappa/alpha intervals on the chart
MSG_NO_RESPONSES = "No responses yet."
MSG_NOTHING_SELECTED = "Choose at least one case."
MSG_EXCLUDED = "{n} row(s) of {source} were left out (blank, unknown case or answer, duplicate)."
MSG_NO_FILE = "{path}: no such file yet; answers will appear here once someone submits one."


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def key_frame(vignettes: Sequence[Vignette], rubric: Rubric) -> pd.DataFrame:
    """The rubric's answer per vignette in the shape casekit.responses expects.

    ``vignette_id, rubric, duty, action`` and one boolean column per criterion. A case's own
    exam ``answer`` (when it has one) is the expected action.
    """
    rows = []
    for v in vignettes:
        a = score(v, rubric)
        row: dict[str, Any] = {
            "vignette_id": v.id,
            "rubric": rubric.id,
            "duty": a.duty,
            "action": v.answer or a.action,
        }
        row.update({c: c in a.fired for c in rubric.criterion_ids})
        rows.append(row)
    return pd.DataFrame(rows, columns=["vignette_id", "rubric", "duty", "action",
                                       *rubric.criterion_ids])  # fmt: skip


def figure_png(fig: Any, dpi: int = 72) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.25)
    plt.close(fig)
    return buf.getvalue()


class ResponseDashboard(W.VBox):
    """Choose cases and a grouping; see the answer distribution and agreement figures.

    Parameters
    ----------
    responses : path, DataFrame or ResponseTable, optional
        Long responses (``respondent_id, vignette_id, response`` …). A path is read with
        :func:`casekit.response_tables.read_responses` and re-read by :meth:`refresh`
        (so a file a Quiz appends to shows new answers). A missing file shows a notice.
    vignettes : sequence of Vignette, or a path, optional
        The cases the answers refer to (default: the bundled set); they give the rubric's
        answer.
    rubric : Rubric or str, optional
    poll : float, optional
        Re-read the responses file every ``poll`` seconds when it has changed (for a
        seminar: answers arrive from other pages' kernels). Only inside a running event
        loop (Jupyter, Voilà).

    Attributes
    ----------
    cases : ipywidgets.SelectMultiple
    group : ipywidgets.Dropdown
        Split the distribution chart and the table by a respondent attribute.
    kind : ipywidgets.Dropdown
        The chart: answers per case (stacked bars) or agreement with the rubric (share
        choosing the rubric's answer per case with 95% intervals; kappa and alpha).
    chart : ipywidgets.Image
        The distribution chart (PNG).
    agreement : ipywidgets.HTML
        Per-case share choosing the rubric's answer, distractors, Fleiss' kappa and
        Krippendorff's alpha.
    table : ResponseTable or None
    summary : DataFrame or None
        :func:`casekit.responses.summarize_responses` of the selection.
    """

    def __init__(
        self,
        responses: str | os.PathLike[str] | pd.DataFrame | ResponseTable | None = None,
        vignettes: Sequence[Vignette] | str | os.PathLike[str] | None = None,
        rubric: Rubric | str | None = None,
        *,
        poll: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.rubric = resolve_rubric(rubric)
        self.error = ErrorBox()
        self._stamp: tuple[float, int] | None = None
        self.source = W.Text(description="Responses", layout=W.Layout(width="36em"))
        self.refresh_button = W.Button(description="Load / refresh", icon="refresh")
        self.cases = W.SelectMultiple(description="Cases", rows=8)
        self.group = W.Dropdown(options=[NO_GROUP], description="Group by")
        self.kind = W.Dropdown(options=[DISTRIBUTION, AGREEMENT], description="Chart")
        self.info = W.HTML()
        self.chart = W.Image(format="png", layout=W.Layout(max_width="900px"))
        self.agreement = W.HTML()
        self.table: ResponseTable | None = None
        self.summary: pd.DataFrame | None = None
        self._frame: pd.DataFrame | None = None
        self._key_cache: dict[str, pd.DataFrame] = {}
        super().__init__(
            children=[
                W.HTML(STYLE),
                self.error,
                W.HBox([self.source, self.refresh_button]),
                W.HBox([self.cases, W.VBox([self.kind, self.group])]),
                self.info,
                self.chart,
                self.agreement,
            ],
            **kwargs,
        )
        self.add_class("ck-response-dashboard")
        if vignettes is None:
            vignettes = data_dir() / "vignettes"
        self.vignettes: list[Vignette] = []
        if isinstance(vignettes, str | os.PathLike):
            with self.error.catching():
                self.vignettes = read_vignettes(Path(vignettes))
        else:
            self.vignettes = list(vignettes)
        self._by_id = {v.id: v for v in self.vignettes}
        self.refresh_button.on_click(lambda _: self.refresh())
        self._quiet = False
        self.cases.observe(self._on_control, names="value")
        self.group.observe(self._on_control, names="value")
        self.kind.observe(self._on_control, names="value")
        if isinstance(responses, str | os.PathLike):
            self.source.value = str(responses)
            self.refresh()
        else:
            self.set_responses(responses)
        self._poller = Poller(self.refresh_if_changed, poll or 0)
        if poll:
            self._poller.start()

    def _file_stamp(self) -> tuple[float, int] | None:
        try:
            st = Path(self.source.value).stat()
        except OSError:
            return None
        return (st.st_mtime, st.st_size)

    def refresh_if_changed(self) -> None:
        """Re-read the responses file if it changed since the last read."""
        if self.source.value and self._file_stamp() != self._stamp:
            self.refresh()

    # -- data -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """(Re-)read the responses file named in :attr:`source`."""
        path = Path(self.source.value)
        self._stamp = self._file_stamp()
        if not self.source.value:
            self.set_responses(None)
            return
        if not path.exists():
            self.error.clear()
            self.set_responses(None, notice=MSG_NO_FILE.format(path=path))
            return
        try:
            table = read_responses(
                path, vignette_ids=list(self._by_id), actions=self.rubric.actions
            )
        except CasekitError as exc:
            self.error.show(str(exc))
            return
        self.error.clear()
        self.set_responses(table)

    def set_responses(
        self, responses: pd.DataFrame | ResponseTable | None, *, notice: str = MSG_NO_RESPONSES
    ) -> None:
        self.table = responses if isinstance(responses, ResponseTable) else None
        frame: pd.DataFrame | None = (
            responses.data if isinstance(responses, ResponseTable) else responses
        )
        self._frame = frame if frame is not None and len(frame) else None
        self._notice = notice
        ids = (
            sorted(self._frame["vignette_id"].astype(str).unique())
            if self._frame is not None
            else []
        )
        groups = [NO_GROUP]
        if self.table is not None:
            groups += list(self.table.groups)
        elif self._frame is not None:
            known = {"respondent_id", "vignette_id", "response", "confidence", "timestamp", "row"}
            groups += [c for c in self._frame.columns if c not in known]
        previous = set(self.cases.value)
        # "everything was selected" stays "everything", so new cases appear as answers arrive
        all_before = previous == set(self.cases.options)
        self._quiet = True  # one render at the end, not one per control update
        try:
            self.cases.options = ids
            kept = tuple(i for i in ids if i in previous)
            self.cases.value = tuple(ids) if all_before or not kept else kept
            if self.group.value not in groups:
                self.group.value = NO_GROUP
            self.group.options = groups
        finally:
            self._quiet = False
        self.render()

    def key(self) -> pd.DataFrame:
        """The rubric answers of the answered cases (scored once per case)."""
        frame = self._frame
        ids = [] if frame is None else sorted(set(frame["vignette_id"].astype(str)))
        missing = [i for i in ids if i not in self._key_cache and i in self._by_id]
        if missing:
            new = key_frame([self._by_id[i] for i in missing], self.rubric)
            for _, row in new.iterrows():
                self._key_cache[str(row["vignette_id"])] = row.to_frame().T
        unknown = [i for i in ids if i not in self._by_id]
        if unknown:
            raise CasekitError(
                f"responses name case(s) {', '.join(unknown[:5])} that are not in the "
                f"vignette set; load the vignettes they refer to"
            )
        if not ids:
            return key_frame([], self.rubric)
        return pd.concat([self._key_cache[i] for i in ids], ignore_index=True)

    # -- rendering ---------------------------------------------------------------------

    def _on_control(self, _: Any) -> None:
        if not self._quiet:
            self.render()

    def render(self) -> None:
        from casekit.plots import plot_agreement, plot_distribution, plot_distribution_by_group
        from casekit.responses import summarize_responses

        if self._frame is None:
            self.info.value = notice_html(self._notice)
            self.chart.value = b""
            self.agreement.value = ""
            self.summary = None
            return
        selected = list(self.cases.value)
        if not selected:
            self.info.value = notice_html(MSG_NOTHING_SELECTED)
            self.chart.value = b""
            self.agreement.value = ""
            self.summary = None
            return
        with self.error.catching():
            frame = self._frame[self._frame["vignette_id"].isin(selected)]
            key = self.key()
            key = key[key["vignette_id"].isin(selected)]
            by = None if self.group.value == NO_GROUP else self.group.value
            if self.kind.value == AGREEMENT:
                fig = plot_agreement(
                    frame, key, self.rubric.actions, n_boot=AGREEMENT_BOOT, rubric=self.rubric.id
                )
            elif by is None:
                fig = plot_distribution(
                    frame, key, self.rubric.actions, vignettes=selected, rubric=self.rubric.id
                )
            else:
                fig = plot_distribution_by_group(
                    frame, by, key, self.rubric.actions, vignettes=selected, rubric=self.rubric.id
                )
            self.chart.value = figure_png(fig)
            self.summary = summarize_responses(
                frame, key, self.rubric.actions, by=by, rubric=self.rubric.id
            )
            self.agreement.value = self._agreement_html(self.summary, by)
            info = [
                f"{_n(frame['respondent_id'].nunique(), 'respondent')}, {_n(len(frame), 'answer')}."
            ]
            if self.table is not None and len(self.table.excluded):
                info.append(
                    MSG_EXCLUDED.format(n=len(self.table.excluded), source=self.table.source)
                )
            self.info.value = "<p class='ck-info'>" + " ".join(_e(i) for i in info) + "</p>"

    def _agreement_html(self, summary: pd.DataFrame, by: str | None) -> str:
        cols = ["vignette_id", *([by] if by else []), "n", "rubric_action", "share_rubric",
                "share_distractor", "top_response"]  # fmt: skip
        head = "".join(
            f"<th>{_e(c)}</th>"
            for c in [
                "case",
                *([by] if by else []),
                "n",
                "rubric answer",
                "chose rubric answer",
                "chose a distractor",
                "most common answer",
            ]
        )
        body = []
        for row in summary[cols].itertuples(index=False):
            cells = list(row)
            for i in (-2, -3):
                value = cells[i]
                cells[i] = "—" if pd.isna(value) else f"{float(value):.0%}"
            body.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        attrs = summary.attrs

        def fmt(x: Any) -> str:
            return "n/a" if x is None or pd.isna(x) else f"{x:.2f}"

        overall = (
            f"<p><b>Agreement among respondents:</b> Fleiss' κ = "
            f"<span class='ck-kappa'>{fmt(attrs.get('fleiss_kappa'))}</span>, "
            f"Krippendorff's α = {fmt(attrs.get('krippendorff_alpha'))} "
            f"({_n(attrs.get('n_respondents', 0), 'respondent')}, "
            f"{_n(attrs.get('n_responses', 0), 'answer')}). "
            f"{_e(attrs.get('agreement_note', ''))}</p>"
        )
        return (
            overall + f'<table class="ck-table ck-agreement"><tr>{head}</tr>{"".join(body)}</table>'
        )
