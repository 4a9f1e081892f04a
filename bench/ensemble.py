"""Trained readers from a folder, and several readers of one rubric read as one.

A research tool for measurement 20 (``bench/README.md``), used by ``bench/accuracy.py
--reader-dir``; not part of casekit. A folder holds what ``python -m casekit.training RUBRIC
--adapter --dir DIR [--seed S]`` writes: ``RUBRIC.json`` and its adapter beside it.

An ensemble averages its members' sentence probabilities and fires a criterion where the
average reaches the mean of the members' cross-validated thresholds. How each criterion then
combines with the rules (``rules``, ``or`` or ``reader``) and whether the case requirements
are checked again are chosen on the calibration split by
:func:`casekit.training.choose_combination`, as for a single reader. Each member keeps its
own adapted encoder, so an ensemble of three reads every sentence three times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from casekit.model import Vignette
from casekit.reader import Encoder, ReaderModel, SecondReader, adapted_encoder

__all__ = ["EnsembleReader", "ensemble", "reader_in"]


def reader_in(folder: Path, rubric: str) -> SecondReader:
    """The reader ``python -m casekit.training RUBRIC --dir FOLDER`` wrote."""
    model = ReaderModel.from_file(folder / f"{rubric}.json")
    encoder = None
    if model.adapter and model.adapter_sha256:
        encoder = adapted_encoder(folder / model.adapter, model.adapter_sha256)
    return SecondReader(model, encoder)


class EnsembleReader(SecondReader):
    """Members' mean probability per sentence and criterion; ``model`` supplies the rest."""

    def __init__(self, members: Sequence[SecondReader], model: ReaderModel) -> None:
        super().__init__(model, members[0].encoder)
        self.members = tuple(members)

    def warm(self, texts: Sequence[str]) -> None:
        for member in self.members:
            member.warm(texts)

    def probabilities(self, text: str) -> tuple[list[tuple[int, int]], NDArray[np.float64]]:
        spans, first = self.members[0].probabilities(text)
        rest = [member.probabilities(text)[1] for member in self.members[1:]]
        return spans, np.mean([first, *rest], axis=0)


def ensemble(
    folders: Sequence[Path],
    rubric: str,
    calibration: Sequence[Vignette],
    *,
    search_thresholds: bool = False,
) -> tuple[EnsembleReader, dict[str, dict[str, Any]]]:
    """The readers in ``folders`` as one, its modes chosen on ``calibration``; and the report.

    ``search_thresholds``: the averaged probability's thresholds are chosen on
    ``calibration`` too (measurement 25), starting from the members' mean.
    """
    from casekit.training import choose_combination

    members = [reader_in(Path(f), rubric) for f in folders]
    first = members[0].model
    if any(tuple(m.model.heads) != tuple(first.heads) for m in members):
        raise ValueError(f"{rubric}: the readers in {list(folders)} have different criteria")
    heads = {
        c: replace(h, threshold=float(np.mean([m.model.heads[c].threshold for m in members])))
        for c, h in first.heads.items()
    }
    start = replace(first, heads=heads, case_requirements=False)

    def make(model: ReaderModel, _encoder: Encoder) -> SecondReader:
        return EnsembleReader(members, model)

    model, report = choose_combination(
        start,
        calibration,
        members[0].encoder,
        make_reader=make,
        search_thresholds=search_thresholds,
    )
    return EnsembleReader(members, model), report
