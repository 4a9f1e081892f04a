"""Pieces the widgets share: data location, error box, assessment cache, debouncing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W

import casekit
from casekit.errors import CasekitError
from casekit.model import Assessment, Vignette
from casekit.rules import Rubric, load_rubric
from casekit.scoring import score
from casekit.widgets.render import error_html

__all__ = ["AssessmentCache", "Debouncer", "ErrorBox", "Poller", "data_dir"]

AS_WRITTEN = "as written"


def data_dir() -> Path:
    """The bundled ``data/`` folder (beside the package), whatever the working directory."""
    return Path(casekit.__file__).resolve().parents[1] / "data"


def resolve_rubric(rubric: Rubric | str | None) -> Rubric:
    if isinstance(rubric, Rubric):
        return rubric
    return load_rubric(rubric or "duty_to_protect")


class ErrorBox(W.HTML):
    """An HTML box that shows a :class:`CasekitError` message and is empty otherwise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="", **kwargs)
        self.add_class("ck-error-box")

    @property
    def message(self) -> str:
        return getattr(self, "_message", "")

    def show(self, message: str) -> None:
        self._message = message
        self.value = error_html(message)

    def clear(self) -> None:
        self._message = ""
        self.value = ""

    @contextmanager
    def catching(self) -> Iterator[None]:
        """Show casekit errors raised in the block; clear the box when the block succeeds.

        Only :class:`CasekitError` is caught (bad file, unknown id): anything else is a bug
        and propagates.
        """
        try:
            yield
        except CasekitError as exc:
            self.show(str(exc))
        else:
            self.clear()


@dataclass(frozen=True, slots=True)
class CaseRow:
    """What the explorer filters and sorts on, for one case under one (rubric, jurisdiction)."""

    index: int
    id: str
    title: str
    jurisdiction: str
    difficulty: str
    duty: str
    action: str
    fired: frozenset[str]
    tags: frozenset[str]
    haystack: str


class AssessmentCache:
    """Scores a vignette set once per (rubric, jurisdiction) and keeps the results.

    ``rows()`` gives the light per-case records the explorer filters on (scored without
    explanation, the fast path); ``explained()`` scores one case with every finding, for the
    detail pane, and memoises it. Filtering never rescores.
    """

    def __init__(self, vignettes: Sequence[Vignette]) -> None:
        self.vignettes = list(vignettes)
        self._rows: dict[tuple[str, str], list[CaseRow]] = {}
        self._explained: dict[tuple[str, str, int], Assessment] = {}
        # How many scorings ran, for the table rows and the detail pane: filtering adds none.
        self.rows_scored = 0
        self.details_scored = 0

    @staticmethod
    def _code(jurisdiction: str | None) -> str:
        return AS_WRITTEN if jurisdiction in (None, "", AS_WRITTEN) else str(jurisdiction)

    def _jur(self, code: str) -> str | None:
        return None if code == AS_WRITTEN else code

    def rows(self, rubric: Rubric, jurisdiction: str | None = None) -> list[CaseRow]:
        code = self._code(jurisdiction)
        key = (rubric.id, code)
        if key not in self._rows:
            out = []
            for i, v in enumerate(self.vignettes):
                a = score(v, rubric, jurisdiction=self._jur(code), explain=False)
                self.rows_scored += 1
                out.append(
                    CaseRow(
                        index=i,
                        id=v.id,
                        title=v.title,
                        jurisdiction=a.jurisdiction,
                        difficulty=v.difficulty,
                        duty=a.duty,
                        action=a.action,
                        fired=frozenset(a.fired),
                        tags=frozenset(v.tags),
                        haystack=" ".join((v.id, v.title, v.text, *v.tags)).lower(),
                    )
                )
            self._rows[key] = out
        return self._rows[key]

    def explained(self, rubric: Rubric, jurisdiction: str | None, index: int) -> Assessment:
        code = self._code(jurisdiction)
        key = (rubric.id, code, index)
        if key not in self._explained:
            self._explained[key] = score(
                self.vignettes[index], rubric, jurisdiction=self._jur(code)
            )
            self.details_scored += 1
        return self._explained[key]


class Debouncer:
    """Run ``callback`` once input has been quiet for ``delay`` seconds.

    With ``delay == 0`` it runs at once (tests, benchmarks). Inside a running event loop
    (Jupyter, Voilà) it uses ``loop.call_later``; otherwise a timer thread. ``flush()``
    runs a pending call now.
    """

    def __init__(self, callback: Callable[[], None], delay: float) -> None:
        self.callback = callback
        self.delay = delay
        self._handle: asyncio.TimerHandle | threading.Timer | None = None

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def __call__(self) -> None:
        self.cancel()
        if self.delay <= 0:
            self.callback()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            timer = threading.Timer(self.delay, self._fire)
            timer.daemon = True
            self._handle = timer
            timer.start()
        else:
            self._handle = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.callback()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def flush(self) -> None:
        if self._handle is not None:
            self.cancel()
            self.callback()


class Poller:
    """Call ``callback`` every ``interval`` seconds while the kernel's event loop runs.

    Seminar pages served by Voilà each run their own kernel; they notice what other
    kernels wrote to a shared file (answers, the instructor's reveal) by polling it.
    :meth:`start` returns False (and does nothing) outside an event loop, e.g. in tests.
    """

    def __init__(self, callback: Callable[[], None], interval: float) -> None:
        self.callback = callback
        self.interval = interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> bool:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._handle = self._loop.call_later(self.interval, self._tick)
        return True

    def _tick(self) -> None:
        try:
            self.callback()
        finally:
            if self._loop is not None and self._handle is not None:
                self._handle = self._loop.call_later(self.interval, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
