"""Does marking the rules' candidate victims help the reader? (measurement 26, a probe).

A research probe, not part of casekit. Before the encoder reads a duty_to_protect case, every
span the rubric's ``identifiable_victim`` patterns match (cancelled ones too) is wrapped in
``<<`` and ``>>`` ("entity markers", as in relation extraction), so the reader is shown which
noun phrases are candidate victims and has to judge them in context. The reader is trained
exactly as ``make readers`` trains duty_to_protect's (adapter rank 32, 6 epochs, in context,
default seed; heads by cross-validation; modes and thresholds chosen on the rubric's
calibration split), on marked text, and read on marked text; the rules always see the
original text. Scored on duty_to_protect's held-out split proper.

Run: ``OMP_NUM_THREADS=2 .venv/bin/python bench/marker_probe.py --dir DIR`` (needs PyTorch).
"""

from __future__ import annotations

import argparse
import json
import sys
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import casekit.training as tr  # noqa: E402
from casekit.io import read_vignettes  # noqa: E402
from casekit.matching import compile_rubric, sentence_spans  # noqa: E402
from casekit.model import Vignette  # noqa: E402
from casekit.reader import (  # noqa: E402
    Encoder,
    SecondReader,
    read_safetensors,
    write_safetensors,
)
from casekit.rules import load_rubric  # noqa: E402
from casekit.scoring import score  # noqa: E402

RUBRIC = "duty_to_protect"
MARKED = "identifiable_victim"
OPEN, CLOSE = "<< ", " >>"


class Marker:
    """Wraps the rubric's candidate-victim matches in markers, and maps offsets across."""

    def __init__(self) -> None:
        self.matcher = compile_rubric(load_rubric(RUBRIC))

    def inserts(self, text: str) -> list[tuple[int, str]]:
        spans = sorted(
            (f.start, f.end) for f in self.matcher.find(text, explain=True) if f.criterion == MARKED
        )
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return sorted([(s, OPEN) for s, _ in merged] + [(e, CLOSE) for _, e in merged])

    def mark(self, text: str) -> tuple[str, list[int], list[int]]:
        """The marked text, and the insert positions with their cumulative shifts."""
        out, last, at, shift = [], 0, [], [0]
        for pos, token in self.inserts(text):
            out += [text[last:pos], token]
            last = pos
            at.append(pos)
            shift.append(shift[-1] + len(token))
        out.append(text[last:])
        return "".join(out), at, shift

    @staticmethod
    def moved(pos: int, at: list[int], shift: list[int], *, end: bool) -> int:
        """Where ``pos`` lands in the marked text (a span's end stays before a marker there)."""
        k = bisect_right(at, pos - 1 if end else pos)
        return pos + shift[k]


def marked_vignettes(
    vignettes: Sequence[Vignette], annotations: tr.Annotations, marker: Marker
) -> tuple[list[Vignette], tr.Annotations]:
    out, moved = [], {}
    for v in vignettes:
        text, at, shift = marker.mark(v.text)
        if len(sentence_spans(text)) != len(sentence_spans(v.text)):
            text, at, shift = v.text, [], [0]  # never split a case differently
        out.append(replace(v, text=text))
        if v.id in annotations:
            moved[v.id] = {
                c: [
                    (marker.moved(a, at, shift, end=False), marker.moved(b, at, shift, end=True))
                    for a, b in spans
                ]
                for c, spans in annotations[v.id].items()
            }
    return out, moved


class MarkingReader(SecondReader):
    """A reader that reads the marked text and reports on the original's sentences."""

    marker = Marker()

    def probabilities(self, text: str) -> tuple[list[tuple[int, int]], NDArray[np.float64]]:
        marked, _, _ = self.marker.mark(text)
        spans = sentence_spans(text)
        marked_spans, p = super().probabilities(marked)
        if len(marked_spans) != len(spans):
            return super().probabilities(text)
        return spans, p

    def warm(self, texts: Sequence[str]) -> None:
        super().warm([self.marker.mark(t)[0] for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)

    marker = Marker()
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    annotations = tr.read_annotations(RUBRIC, vignettes)
    tuning = [v for v in vignettes if v.split == "tuning"]
    marked, moved = marked_vignettes(tuning, annotations, marker)
    plain_examples = tr.examples

    def marked_examples(rubric: str, criteria: Sequence[str]) -> list[tuple[list[str], list[int]]]:
        return [
            ([marker.mark(s)[0] for s in ss], row) for ss, row in plain_examples(rubric, criteria)
        ]

    tr.examples = marked_examples  # the rubric's examples are read marked too
    encoder = Encoder()
    adapter = tr.train_adapter(
        [RUBRIC],
        marked,
        {RUBRIC: moved},
        encoder,
        epochs=6,
        rank=32,
        context=True,
        log=lambda line: print(line, flush=True),
    )
    path = args.dir / f"{RUBRIC}.adapter.safetensors"
    write_safetensors(path, adapter)
    encoder = Encoder(adapter=read_safetensors(path))
    model, cv = tr.train_reader(RUBRIC, marked, moved, encoder, context=True)
    calibration = tr.calibration_records(vignettes, RUBRIC)
    model, report = tr.choose_combination(
        model, calibration, encoder, search_thresholds=True, make_reader=MarkingReader
    )
    model.to_file(args.dir / f"{RUBRIC}.json")
    print(json.dumps({"cv_f1": cv, "calibration": report}, indent=1), flush=True)

    reader = MarkingReader(model, encoder)
    chosen_on = {v.id for v in calibration}
    heldout = [
        v
        for v in vignettes
        if v.split == "heldout" and RUBRIC in v.labels and v.id not in chosen_on
    ]
    rub = load_rubric(RUBRIC)
    counts = {c: [0, 0, 0] for c in model.heads}
    right = 0
    for v in heldout:
        a = score(v, rub, reader=reader)
        gold = v.labels[RUBRIC]
        right += a.duty == gold["duty"]
        for c, k in counts.items():
            if isinstance(gold.get(c), bool):
                got = c in a.fired
                k[0] += got and gold[c]
                k[1] += got and not gold[c]
                k[2] += gold[c] and not got
    print(f"held-out split proper: duty {right}/{len(heldout)}")
    f1s = []
    for c, (tp, fp, fn) in counts.items():
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        f1s.append(f1)
        print(f"  {c:26s} F1 {f1:.3f}  tp {tp} fp {fp} fn {fn}")
    print(f"  mean criterion F1 {np.mean(f1s):.4f}")


if __name__ == "__main__":
    main()
