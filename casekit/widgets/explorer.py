"""CaseExplorer: filter a vignette set, see counts and a sortable table, open a case."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W

from casekit.errors import CasekitError
from casekit.io import read_vignettes
from casekit.model import DIFFICULTIES, DUTIES, JURISDICTION_CODES, Vignette
from casekit.rules import Rubric, bundled_rubrics, load_rubric
from casekit.widgets._common import AS_WRITTEN, AssessmentCache, CaseRow, ErrorBox, data_dir
from casekit.widgets.panel import CriteriaPanel
from casekit.widgets.render import STYLE, _e, notice_html

__all__ = ["SORT_KEYS", "CaseExplorer"]

ANY = "any"
#: Sort choices: label -> CaseRow attribute (``fired`` sorts by the number fired).
SORT_KEYS: dict[str, str] = {
    "id": "id",
    "title": "title",
    "duty": "duty",
    "action": "action",
    "difficulty": "difficulty",
    "criteria fired": "fired",
    "jurisdiction": "jurisdiction",
}
TABLE_COLUMNS = ("id", "title", "jurisdiction", "difficulty", "fired", "duty", "action")
NO_MATCH = "No case matches these filters."
_DIFFICULTY_ORDER = {d: i for i, d in enumerate(DIFFICULTIES)}


def _sort_value(row: CaseRow, key: str) -> Any:
    if key == "fired":
        return (len(row.fired), row.id)
    if key == "difficulty":
        return (_DIFFICULTY_ORDER.get(row.difficulty, len(DIFFICULTIES)), row.id)
    return (getattr(row, key), row.id)


class CaseExplorer(W.VBox):
    """Filters, a sortable table of matching cases with counts, and a detail pane.

    Parameters
    ----------
    vignettes : sequence of Vignette, or a path, optional
        The cases; a path (file or folder) is read with :func:`casekit.io.read_vignettes`.
        Default: the bundled ``data/vignettes`` set.
    rubrics : sequence of Rubric or str, optional
        The rubrics to choose from (default: every bundled rubric).
    page_size : int
        Rows shown per page of the table.

    Attributes
    ----------
    rubric, jurisdiction, difficulty, duty : ipywidgets.Dropdown
    tags, fired, not_fired : ipywidgets.SelectMultiple
        Cases must carry every selected tag, fire every ``fired`` criterion and none of the
        ``not_fired`` ones.
    search : ipywidgets.Text
        Case-insensitive words searched in id, title, text and tags (all must occur).
    sort_by : ipywidgets.Dropdown
    descending : ipywidgets.Checkbox
    counts, table : ipywidgets.HTML
    case : ipywidgets.Dropdown
        The case opened in :attr:`detail` (the current page's cases).
    detail : CriteriaPanel
    matches : list of CaseRow
        The filtered, sorted rows.
    path : ipywidgets.Text
        A vignette file or folder to load with the ``load`` button.
    error : ErrorBox
    """

    def __init__(
        self,
        vignettes: Sequence[Vignette] | str | os.PathLike[str] | None = None,
        rubrics: Sequence[Rubric | str] | None = None,
        *,
        page_size: int = 20,
        **kwargs: Any,
    ) -> None:
        self.page_size = page_size
        self.error = ErrorBox()
        self._rubrics: dict[str, Rubric] = {}
        broken = []
        for item in rubrics or bundled_rubrics():
            try:
                rub = load_rubric(item) if isinstance(item, str) else item
            except CasekitError as exc:  # one broken rubric file must not hide the others
                broken.append(str(exc))
                continue
            self._rubrics[rub.id] = rub
        if not self._rubrics:
            raise CasekitError("no usable rubric:\n" + "\n".join(broken))
        self.path = W.Text(
            description="Cases file", placeholder="path to a .yaml/.csv/.jsonl file or folder",
            layout=W.Layout(width="32em"),
        )  # fmt: skip
        self.load_button = W.Button(description="Load", icon="folder-open")
        self.rubric = W.Dropdown(options=list(self._rubrics), description="Rubric")
        self.jurisdiction = W.Dropdown(
            options=[AS_WRITTEN, "generic", *sorted(JURISDICTION_CODES - {"generic"})],
            description="Jurisdiction",
        )
        self.difficulty = W.Dropdown(options=[ANY, *DIFFICULTIES], description="Difficulty")
        self.duty = W.Dropdown(options=[ANY, *DUTIES], description="Duty")
        self.tags = W.SelectMultiple(description="Tags", rows=6)
        self.fired = W.SelectMultiple(description="Fired", rows=6)
        self.not_fired = W.SelectMultiple(description="Not fired", rows=6)
        self.search = W.Text(description="Search", placeholder="words in id, title or text")
        self.sort_by = W.Dropdown(options=list(SORT_KEYS), description="Sort by")
        self.descending = W.Checkbox(description="descending", indent=False)
        self.page = W.BoundedIntText(value=1, min=1, max=1, description="Page")
        self.counts = W.HTML()
        self.table = W.HTML()
        self.case = W.Dropdown(description="Open case", layout=W.Layout(width="40em"))
        self.detail = CriteriaPanel(rubric=self.rubric.value)
        self.matches: list[CaseRow] = []
        self.cache = AssessmentCache([])

        filters = W.VBox(
            [
                W.HBox([self.path, self.load_button]),
                W.HBox([self.rubric, self.jurisdiction, self.difficulty, self.duty]),
                W.HBox([self.tags, self.fired, self.not_fired]),
                W.HBox([self.search, self.sort_by, self.descending, self.page]),
            ]
        )
        super().__init__(
            children=[
                W.HTML(STYLE),
                self.error,
                filters,
                self.counts,
                self.table,
                self.case,
                self.detail,
            ],
            **kwargs,
        )
        self.add_class("ck-case-explorer")

        self.load_button.on_click(lambda _: self.load(self.path.value))
        for w in (self.rubric, self.jurisdiction):
            w.observe(self._on_scoring_change, names="value")
        for w in (
            self.difficulty, self.duty, self.tags, self.fired, self.not_fired, self.search,
            self.sort_by, self.descending,
        ):  # fmt: skip
            w.observe(self._on_filter_change, names="value")
        self.page.observe(lambda _: self.render(), names="value")
        self.case.observe(self._on_case, names="value")

        if vignettes is None:
            self.load(data_dir() / "vignettes")
            self.path.value = ""  # the bundled set: leave the box for the user's own file
            self.path.placeholder = "bundled cases; or a .yaml/.csv/.jsonl file or folder"
        elif isinstance(vignettes, str | os.PathLike):
            self.load(vignettes)
        else:
            self.set_vignettes(vignettes)
        if broken:
            self.error.show("\n".join(broken))

    # -- data ---------------------------------------------------------------------------

    @property
    def current_rubric(self) -> Rubric:
        return self._rubrics[self.rubric.value]

    def load(self, path: str | os.PathLike[str]) -> None:
        """Read a vignette file or folder; a bad file shows its problems in the error box."""
        try:
            vignettes = read_vignettes(Path(path))
        except CasekitError as exc:
            self.error.show(str(exc))
            return
        self.path.value = str(path)
        self.set_vignettes(vignettes)

    def set_vignettes(self, vignettes: Sequence[Vignette]) -> None:
        self.cache = AssessmentCache(vignettes)
        self.error.clear()
        self.tags.options = sorted({t for v in self.cache.vignettes for t in v.tags})
        self._on_scoring_change(None)

    # -- events -------------------------------------------------------------------------

    def _on_scoring_change(self, _: Any) -> None:
        rubric = self.current_rubric
        ids = list(rubric.criterion_ids)
        with self.hold_trait_notifications():
            self.fired.value = tuple(v for v in self.fired.value if v in ids)
            self.not_fired.value = tuple(v for v in self.not_fired.value if v in ids)
        self.fired.options = [(rubric.criterion(c).label, c) for c in ids]
        self.not_fired.options = [(rubric.criterion(c).label, c) for c in ids]
        with self.error.catching():
            self.cache.rows(rubric, self.jurisdiction.value)
        self.refresh()

    def _on_filter_change(self, _: Any) -> None:
        self.refresh()

    def _on_case(self, change: Any) -> None:
        self.open_case(change["new"])

    # -- filtering and rendering ----------------------------------------------------------

    def filtered(self) -> list[CaseRow]:
        """The rows passing every filter, sorted (no scoring: rows come from the cache)."""
        try:
            rows = self.cache.rows(self.current_rubric, self.jurisdiction.value)
        except CasekitError:
            return []
        difficulty, duty = self.difficulty.value, self.duty.value
        tags = frozenset(self.tags.value)
        fired = frozenset(self.fired.value)
        not_fired = frozenset(self.not_fired.value)
        words = self.search.value.lower().split()
        out = [
            r
            for r in rows
            if (difficulty == ANY or r.difficulty == difficulty)
            and (duty == ANY or r.duty == duty)
            and tags <= r.tags
            and fired <= r.fired
            and not (not_fired & r.fired)
            and all(w in r.haystack for w in words)
        ]
        key = SORT_KEYS[self.sort_by.value]
        out.sort(key=lambda r: _sort_value(r, key), reverse=self.descending.value)
        return out

    def refresh(self) -> None:
        """Re-filter and re-render (called on every filter change)."""
        self.matches = self.filtered()
        pages = max(1, -(-len(self.matches) // self.page_size))
        with self.page.hold_trait_notifications():
            self.page.max = pages
            if self.page.value > pages:
                self.page.value = pages
        self.render()

    def render(self) -> None:
        total = len(self.cache.vignettes)
        n = len(self.matches)
        first = (self.page.value - 1) * self.page_size
        shown = self.matches[first : first + self.page_size]
        duties = Counter(r.duty for r in self.matches)
        duty_text = " · ".join(f"{d.replace('_', ' ')}: {duties.get(d, 0)}" for d in DUTIES)
        if n:
            rubric = self.current_rubric
            fired = Counter(c for r in self.matches for c in r.fired)
            fired_text = " · ".join(
                f"{_e(rubric.criterion(c).label)} {fired[c]}" for c in rubric.criterion_ids
            )
            self.counts.value = (
                f'<p class="ck-counts"><b>{n}</b> of {total} cases match '
                f"(showing {first + 1}–{first + len(shown)}). Duty — {duty_text}</p>"
                f'<p class="ck-fired-counts"><small>Criteria met among them: {fired_text}'
                "</small></p>"
            )
        else:
            self.counts.value = f'<p class="ck-counts"><b>0</b> of {total} cases match.</p>'
        self.table.value = self._table(shown) if shown else notice_html(NO_MATCH)
        options = [(f"{r.id} — {r.title}" if r.title else r.id, r.index) for r in shown]
        current = self.case.value
        self.case.options = options
        if current in {i for _, i in options}:
            self.case.value = current
        elif options:
            self.case.value = options[0][1]
        else:
            self.case.value = None
            self.detail.clear()

    def _table(self, rows: Sequence[CaseRow]) -> str:
        rubric = self.current_rubric
        head = "".join(f"<th>{c}</th>" for c in TABLE_COLUMNS)
        body = []
        for r in rows:
            fired = ", ".join(
                rubric.criterion(c).label for c in rubric.criterion_ids if c in r.fired
            )
            cells = (r.id, r.title, r.jurisdiction, r.difficulty, fired or "—",
                     r.duty.replace("_", " "), r.action)  # fmt: skip
            body.append(
                f'<tr data-id="{_e(r.id)}">' + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>"
            )
        return f'<table class="ck-table ck-cases"><tr>{head}</tr>{"".join(body)}</table>'

    def open_case(self, index: int | None) -> None:
        """Show case number ``index`` (position in the vignette set) in the detail pane."""
        if index is None:
            self.detail.clear()
            return
        rubric = self.current_rubric
        with self.error.catching():
            assessment = self.cache.explained(rubric, self.jurisdiction.value, index)
            self.detail.show(self.cache.vignettes[index], assessment, rubric)

    def select(self, vignette_id: str) -> None:
        """Open the case with this id (it must be among the current matches)."""
        for r in self.matches:
            if r.id == vignette_id:
                position = self.matches.index(r)
                self.page.value = position // self.page_size + 1
                self.case.value = r.index
                return
        raise CasekitError(f"case {vignette_id!r} is not among the {len(self.matches)} matches")
