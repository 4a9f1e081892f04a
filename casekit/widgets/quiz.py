"""Quiz: answer a case, get feedback that names the criteria; save answers for analysis."""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as W

from casekit.errors import CasekitError
from casekit.io import read_vignettes
from casekit.model import Assessment, Vignette
from casekit.rules import Rubric
from casekit.scoring import score
from casekit.widgets._common import ErrorBox, Poller, data_dir, resolve_rubric
from casekit.widgets.render import STYLE, _e, notice_html

__all__ = ["RESPONSE_COLUMNS", "Quiz"]

#: The long response format (DESIGN §3) written by :meth:`Quiz.save_csv`.
RESPONSE_COLUMNS = ("respondent_id", "vignette_id", "response", "confidence", "timestamp")

REVEAL_SUFFIX = ".revealed"
POLL_SECONDS = 2.0
MSG_NO_ACTION = "Choose an action first."
MSG_HIDDEN = "Answer recorded. The answer will be shown when the instructor reveals it."
MSG_SAVED = "Saved {n} response(s) to {path}"
MSG_NO_CASES = "no cases to ask about"
MSG_ALREADY_SENT = (
    "Answer changed here; your first answer to this case was already sent to the room."
)


class Quiz(W.VBox):
    """A student picks an action (and the criteria they think apply) and gets feedback.

    Parameters
    ----------
    vignettes : sequence of Vignette, or a path, optional
        The cases (default: the bundled cases written for the rubric,
        ``data/vignettes/<rubric>.yaml``). Each case offers its own ``options`` when it
        has them, otherwise every action of the rubric.
    rubric : Rubric or str, optional
    reveal : bool
        ``True`` (practice): feedback right after each answer. ``False`` (seminar): answers
        are recorded and the feedback stays hidden until :attr:`reveal` is switched on.
    ask_criteria, ask_confidence : bool
        Show the criteria checklist / the 1–5 confidence slider.
    save_to : path, optional
        A CSV in the long response format; each first answer to a case is appended at
        once (several kernels can share one file, e.g. a seminar served by Voilà). The
        reveal is shared too, through a flag file beside it (``<save_to>.revealed``):
        when the instructor reveals, every page sharing the file shows the answers
        (checked every couple of seconds and at each interaction).
    instructor : bool
        Show the reveal switch. Students' pages (``False``) cannot reveal.
    respondent_id : str, optional
        Default: an anonymous random id.

    Attributes
    ----------
    respondent, case, action, confidence, criteria, submit, reveal, feedback, status,
    save_path, save_button
        The controls; ``criteria`` maps criterion id -> Checkbox.
    responses : list of dict
        One per (respondent, case), keys :data:`RESPONSE_COLUMNS` plus ``criteria``.
    """

    def __init__(
        self,
        vignettes: Sequence[Vignette] | str | os.PathLike[str] | None = None,
        rubric: Rubric | str | None = None,
        *,
        reveal: bool = True,
        ask_criteria: bool = True,
        ask_confidence: bool = True,
        save_to: str | os.PathLike[str] | None = None,
        respondent_id: str | None = None,
        instructor: bool = True,
        **kwargs: Any,
    ) -> None:
        self.rubric = resolve_rubric(rubric)
        self.save_to = Path(save_to) if save_to is not None else None
        self.instructor = instructor
        self.reveal_flag = (
            self.save_to.with_name(self.save_to.name + REVEAL_SUFFIX) if self.save_to else None
        )
        self.responses: list[dict[str, Any]] = []
        self._sent: set[tuple[str, str]] = set()
        self._callbacks: list[Callable[[dict[str, Any]], None]] = []
        self._assessments: dict[str, Assessment] = {}
        self.vignettes: list[Vignette] = []
        self.error = ErrorBox()
        self.respondent = W.Text(
            value=respondent_id or f"anon-{secrets.token_hex(3)}", description="Your id"
        )
        self.case = W.Dropdown(description="Case", layout=W.Layout(width="40em"))
        self.text = W.HTML(layout=W.Layout(border="1px solid #ccc", padding="4px 8px"))
        self.action = W.RadioButtons(
            description="Action", layout=W.Layout(width="auto"), style={"description_width": "4em"}
        )
        self.criteria = {
            c.id: W.Checkbox(description=c.label, indent=False, value=False)
            for c in self.rubric.criteria
        }
        self.confidence = W.IntSlider(value=3, min=1, max=5, description="Confidence")
        self.submit = W.Button(description="Submit answer", button_style="primary")
        self.status = W.HTML()
        self.reveal = W.ToggleButton(
            value=reveal,
            description="Reveal answers (instructor)",
            layout=W.Layout(width="16em", display=None if instructor else "none"),
        )
        self.feedback = W.HTML()
        self.save_path = W.Text(
            value="quiz_responses.csv", description="Save as", layout=W.Layout(width="28em")
        )
        self.save_button = W.Button(description="Save responses CSV", icon="save")
        self.save_status = W.HTML()
        parts: list[Any] = [
            W.HTML(STYLE),
            self.error,
            W.HBox([self.respondent, self.case]),
            self.text,
            W.HTML("<b>What should the clinician do?</b>"),
            self.action,
        ]
        if ask_criteria:
            parts += [
                W.HTML("<b>Which criteria apply?</b> (optional)"),
                W.GridBox(
                    list(self.criteria.values()),
                    layout=W.Layout(grid_template_columns="repeat(3, 18em)"),
                ),
            ]
        if ask_confidence:
            parts.append(self.confidence)
        parts += [
            W.HBox([self.submit, self.reveal]),
            self.status,
            self.feedback,
            W.HBox([self.save_path, self.save_button]),
            self.save_status,
        ]
        self._ask_confidence = ask_confidence
        super().__init__(children=parts, **kwargs)
        self.add_class("ck-quiz")
        self.case.observe(lambda _: self._show_case(), names="value")
        self.submit.on_click(lambda _: self.answer())
        self._instructor_revealed = False
        self.reveal.observe(self._on_reveal, names="value")
        self.save_button.on_click(lambda _: self.save_csv(self.save_path.value))

        if vignettes is None:
            own = data_dir() / "vignettes" / f"{self.rubric.id}.yaml"
            vignettes = own if own.is_file() else data_dir() / "vignettes"
        if isinstance(vignettes, str | os.PathLike):
            try:
                vignettes = read_vignettes(Path(vignettes))
            except CasekitError as exc:
                self.error.show(str(exc))
                vignettes = []
        self.set_vignettes(vignettes)
        self._poller = Poller(self.check_reveal, POLL_SECONDS)
        if self.reveal_flag is not None:
            if self.reveal_flag.exists():  # revealed earlier (e.g. before a page reload)
                self.reveal.value = True
            if not instructor:
                self._poller.start()

    # -- cases --------------------------------------------------------------------------

    def set_vignettes(self, vignettes: Sequence[Vignette]) -> None:
        self.vignettes = list(vignettes)
        self._by_id = {v.id: v for v in self.vignettes}
        self.case.options = [(f"{v.id} — {v.title}" if v.title else v.id, v.id) for v in vignettes]
        if self.vignettes and self.case.value is None:
            self.case.value = self.vignettes[0].id
        self._show_case()

    @property
    def vignette(self) -> Vignette | None:
        return self._by_id.get(self.case.value) if self.case.value else None

    def assessment(self, vignette: Vignette) -> Assessment:
        if vignette.id not in self._assessments:
            self._assessments[vignette.id] = score(vignette, self.rubric)
        return self._assessments[vignette.id]

    def key(self, vignette: Vignette) -> str:
        """The expected action: the case's exam ``answer`` if it has one, else the rubric's."""
        return vignette.answer or self.assessment(vignette).action

    def _label(self, action: str) -> str:
        try:
            return self.rubric.action(action).label
        except KeyError:
            return action.replace("_", " ")

    def _show_case(self) -> None:
        if hasattr(self, "_poller"):
            self.check_reveal()
        v = self.vignette
        self.status.value = ""
        if v is None:
            self.text.value = notice_html(MSG_NO_CASES)
            self.action.options = []
            self.feedback.value = ""
            return
        self.text.value = f'<div class="ck-text">{_e(v.text)}</div>'
        ids = list(v.options) or [a.id for a in self.rubric.actions]
        self.action.options = [(self._label(a), a) for a in ids]
        previous = self._find(self.respondent.value, v.id)
        self.action.value = previous["response"] if previous else None
        for cid, box in self.criteria.items():
            box.value = bool(previous and cid in previous["criteria"])
        self._show_feedback()

    # -- answering ------------------------------------------------------------------------

    def _find(self, respondent: str, vignette_id: str) -> dict[str, Any] | None:
        for r in self.responses:
            if r["respondent_id"] == respondent and r["vignette_id"] == vignette_id:
                return r
        return None

    def on_submit(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Call ``callback(record)`` after each answer (e.g. to refresh a dashboard)."""
        self._callbacks.append(callback)

    def answer(self) -> dict[str, Any] | None:
        """Record the current choice for the current case; returns the record."""
        v = self.vignette
        if v is None or self.action.value is None:
            self.status.value = notice_html(MSG_NO_ACTION)
            return None
        record = {
            "respondent_id": self.respondent.value.strip() or "anonymous",
            "vignette_id": v.id,
            "response": self.action.value,
            "confidence": self.confidence.value if self._ask_confidence else None,
            "timestamp": datetime.now().isoformat(timespec="seconds"),
            "criteria": tuple(cid for cid, box in self.criteria.items() if box.value),
        }
        previous = self._find(record["respondent_id"], v.id)
        if previous is not None:
            self.responses.remove(previous)
        self.responses.append(record)
        self.status.value = ""
        self.check_reveal()
        pair = (record["respondent_id"], v.id)
        if self.save_to is not None:
            if pair in self._sent:
                self.status.value = notice_html(MSG_ALREADY_SENT)
            else:
                with self.error.catching():
                    self._append(self.save_to, [record])
                    self._sent.add(pair)
        self._show_feedback()
        for callback in self._callbacks:
            callback(record)
        return record

    def _show_feedback(self) -> None:
        v = self.vignette
        if v is None:
            self.feedback.value = ""
            return
        mine = self._find(self.respondent.value.strip() or "anonymous", v.id)
        if not self.reveal.value:
            self.feedback.value = notice_html(MSG_HIDDEN) if mine else ""
            return
        if mine is None and not self._revealed_by_instructor():
            self.feedback.value = ""
            return
        self.feedback.value = self.feedback_html(v, mine)

    def _on_reveal(self, change: Any) -> None:
        self._instructor_revealed = bool(change["new"])
        if self.instructor and self.reveal_flag is not None:
            with self.error.catching():
                try:
                    if change["new"]:
                        self.reveal_flag.touch()
                    else:
                        self.reveal_flag.unlink(missing_ok=True)
                except OSError as exc:
                    raise CasekitError(
                        f"{self.reveal_flag}: cannot share the reveal: {exc.strerror}"
                    ) from exc
        self._show_feedback()

    def check_reveal(self) -> None:
        """Follow the instructor's reveal made on another page (the shared flag file)."""
        if self.reveal_flag is None or self.instructor:
            return
        shared = self.reveal_flag.exists()
        if shared != self.reveal.value:
            self.reveal.value = shared

    def _revealed_by_instructor(self) -> bool:
        # In practice mode (reveal on from the start) feedback waits for an answer; once an
        # instructor switches reveal on during a seminar, the answer shows even unanswered.
        return self._instructor_revealed

    def feedback_html(self, v: Vignette, mine: dict[str, Any] | None) -> str:
        """Feedback naming the expected action, the criteria and why."""
        a = self.assessment(v)
        key = self.key(v)
        parts = ['<div class="ck-feedback">']
        if mine is not None:
            chosen = mine["response"]
            if chosen == key:
                parts.append(
                    f"<p class='ck-on' data-verdict='match'>✔ Your answer, "
                    f"“{_e(self._label(chosen))}”, matches the rubric.</p>"
                )
            else:
                parts.append(
                    f"<p class='ck-off' data-verdict='differs'>✘ You chose "
                    f"“{_e(self._label(chosen))}”; the rubric's answer differs.</p>"
                )
                try:
                    act = self.rubric.action(chosen)
                except KeyError:
                    act = None
                if act is not None and not act.appropriate:
                    parts.append(f"<p>Why not: {_e(act.reason)}</p>")
        expected = self._label(key)
        try:
            explanation = self.rubric.action(key).explanation
        except KeyError:
            explanation = ""
        parts.append(
            f"<p><b>Rubric answer:</b> <span class='ck-answer'>{_e(expected)}</span>"
            f" — {_e(explanation)}</p>"
        )
        items = []
        for c in self.rubric.criteria:
            met = c.id in a.fired
            quotes = [f"“{_e(f.text)}”" for f in a.findings_for(c.id) if not f.cancelled][:2]
            note = ""
            if mine is not None and mine["criteria"]:  # only when they ticked some
                picked = c.id in mine["criteria"]
                if picked and met:
                    note = " — you spotted it"
                elif met:
                    note = " — you missed it"
                elif picked:
                    note = " — you ticked it, but it is not met"
            mark = "✔ met" if met else "✘ not met"
            evidence = f": {', '.join(quotes)}" if met and quotes else ""
            items.append(
                f"<li data-criterion='{_e(c.id)}'>{mark}: <b>{_e(c.label)}</b>{evidence}"
                f"{_e(note)}</li>"
            )
        parts.append("<p><b>Criteria</b></p><ul>" + "".join(items) + "</ul>")
        parts.append(f"<p><b>Why:</b> {_e(a.rationale)}</p></div>")
        return "".join(parts)

    # -- saving ---------------------------------------------------------------------------

    def responses_frame(self) -> Any:
        """The answers as a long DataFrame (columns :data:`RESPONSE_COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(
            [{c: r[c] for c in RESPONSE_COLUMNS} for r in self.responses],
            columns=list(RESPONSE_COLUMNS),
        )

    @staticmethod
    def _append(path: Path, records: Sequence[dict[str, Any]]) -> None:
        new = not path.exists() or path.stat().st_size == 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                if new:
                    writer.writerow(RESPONSE_COLUMNS)
                for r in records:
                    writer.writerow(["" if r[c] is None else r[c] for c in RESPONSE_COLUMNS])
        except OSError as exc:
            raise CasekitError(f"{path}: cannot write responses: {exc.strerror}") from exc

    def save_csv(self, path: str | os.PathLike[str]) -> Path | None:
        """Write every answer of this session to ``path`` (replacing the file)."""
        target = Path(path)
        with self.error.catching():
            if target.exists():
                try:
                    target.unlink()
                except OSError as exc:
                    raise CasekitError(f"{target}: cannot replace: {exc.strerror}") from exc
            self._append(target, self.responses)
            self.save_status.value = notice_html(
                MSG_SAVED.format(n=len(self.responses), path=target)
            )
            return target
        return None

    def reveal_answers(self) -> None:
        """The instructor's reveal (same as switching :attr:`reveal` on)."""
        self.reveal.value = True
