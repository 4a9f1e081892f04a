"""Second codings of vignette labels, and how far two coders agree.

A gold label is one coder's reading of a case. Before asking a detector for an F1 of 0.85 on a
criterion, it helps to know how far a second careful coder, working blind from the same
definitions, agrees with the first: that agreement is a ceiling the detector cannot be
measured above. A second coding is a YAML list of ``{id, labels: {criterion: bool, duty:
str}, note}`` records, one per vignette (``data/agreement/<rubric>_second_coder.yaml``).

>>> import numpy as np
>>> a = np.array([True, True, False, False]); b = np.array([True, False, False, False])
>>> round(cohen_kappa(a, b), 2)
0.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from casekit.errors import DataFormatError, Problem
from casekit.model import DUTIES, Vignette

__all__ = ["Coding", "agreement_rows", "cohen_kappa", "f1", "read_coding"]

ERR_SHAPE = "expected a YAML list of records with 'id' and 'labels'"
ERR_RECORD = "expected a mapping with 'id' and 'labels'"
ERR_KEYS = "unknown key {key!r}; allowed: id, labels, note"
ERR_UNKNOWN_ID = "no vignette with this id has gold labels for rubric {rubric!r}"
ERR_DUPLICATE = "id coded twice"
ERR_MISSING = "missing label; every criterion the gold labels give must be coded"
ERR_BOOL = "expected true or false, got {value!r}"
ERR_DUTY = "expected one of {allowed}, got {value!r}"
ERR_EXTRA = "not a criterion of rubric {rubric!r} with gold labels here"
ERR_YAML = "not valid YAML: {error}"
ERR_ENCODING = "not UTF-8 text: {error}"
ERR_EMPTY = "file is empty"

_RECORD_KEYS = frozenset({"id", "labels", "note"})


@dataclass(frozen=True, slots=True)
class Coding:
    """One coder's labels for one rubric: id -> {criterion or ``duty``: value}."""

    rubric: str
    source: str
    labels: Mapping[str, Mapping[str, bool | str]]


def read_coding(path: str | Path, rubric: str, vignettes: Sequence[Vignette]) -> Coding:
    """Read and validate a second coding of ``rubric`` against the gold-labelled ``vignettes``.

    Every record must name a vignette with gold labels for the rubric and code every
    criterion those labels give, plus ``duty``. All problems in the file are collected and
    raised as one :class:`~casekit.errors.DataFormatError` naming record, id and field.
    """
    path = Path(path)
    name = str(path)
    gold = {v.id: v.labels[rubric] for v in vignettes if rubric in v.labels}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFormatError([Problem(name, ERR_ENCODING.format(error=exc))]) from exc
    except yaml.YAMLError as exc:
        raise DataFormatError([Problem(name, ERR_YAML.format(error=exc))]) from exc
    if raw is None:
        raise DataFormatError([Problem(name, ERR_EMPTY)])
    if not isinstance(raw, list):
        raise DataFormatError([Problem(name, ERR_SHAPE)])
    problems: list[Problem] = []
    out: dict[str, dict[str, bool | str]] = {}
    for i, rec in enumerate(raw):
        if not isinstance(rec, dict) or not isinstance(rec.get("labels"), dict):
            problems.append(Problem(name, ERR_RECORD, record=i))
            continue
        vid = str(rec.get("id"))
        where: dict[str, Any] = {"record": i, "id": vid}
        for key in sorted(set(rec) - _RECORD_KEYS):
            problems.append(Problem(name, ERR_KEYS.format(key=key), field=key, **where))
        if vid not in gold:
            problems.append(Problem(name, ERR_UNKNOWN_ID.format(rubric=rubric), **where))
            continue
        if vid in out:
            problems.append(Problem(name, ERR_DUPLICATE, **where))
            continue
        expected = [k for k, x in gold[vid].items() if isinstance(x, bool)] + ["duty"]
        labels = rec["labels"]
        for key in sorted(set(labels) - set(expected)):
            field = f"labels.{key}"
            problems.append(Problem(name, ERR_EXTRA.format(rubric=rubric), field=field, **where))
        coded: dict[str, bool | str] = {}
        for key in expected:
            field = f"labels.{key}"
            value = labels.get(key)
            if key not in labels:
                problems.append(Problem(name, ERR_MISSING, field=field, **where))
            elif key == "duty" and value not in DUTIES:
                msg = ERR_DUTY.format(allowed=", ".join(DUTIES), value=value)
                problems.append(Problem(name, msg, field=field, **where))
            elif key != "duty" and not isinstance(value, bool):
                problems.append(Problem(name, ERR_BOOL.format(value=value), field=field, **where))
            else:
                coded[key] = value
        out[vid] = coded
    if problems:
        raise DataFormatError(problems)
    return Coding(rubric, name, out)


def cohen_kappa(a: Sequence[Any] | NDArray[Any], b: Sequence[Any] | NDArray[Any]) -> float:
    """Cohen's kappa of two nominal codings of the same units (``nan`` if chance is total)."""
    first, second = list(a), list(b)
    if not first:
        return float("nan")
    n = len(first)
    observed = float(sum(x == y for x, y in zip(first, second, strict=True))) / n
    chance = float(
        sum((first.count(c) / n) * (second.count(c) / n) for c in set(first) | set(second))
    )
    return float("nan") if chance >= 1.0 else (observed - chance) / (1.0 - chance)


def f1(
    pred: Sequence[bool] | NDArray[np.bool_], truth: Sequence[bool] | NDArray[np.bool_]
) -> float:
    """F1 of binary predictions against the truth (0 when nothing is both)."""
    p, t = np.asarray(pred, bool), np.asarray(truth, bool)
    tp = int(np.sum(p & t))
    return 2 * tp / (2 * tp + int(np.sum(p != t))) if tp else 0.0


def agreement_rows(
    coding: Coding, vignettes: Sequence[Vignette], criteria: Sequence[str]
) -> list[dict[str, Any]]:
    """Per criterion (then ``duty``): how the second coder agrees with the gold labels.

    Columns: ``n``, ``gold`` and ``second`` (positives each), ``agree`` (share identical),
    ``kappa``, and ``f1``: the second coder scored against the gold labels exactly as a
    detector is, so it reads as the F1 a perfect copy of the second coder would reach.
    ``duty`` rows give ``agree`` and a three-category kappa; ``f1`` there is ``nan``.
    """
    by_id = {v.id: v.labels[coding.rubric] for v in vignettes if v.id in coding.labels}
    ids = [i for i in coding.labels if i in by_id]
    rows: list[dict[str, Any]] = []
    for c in criteria:
        both = [i for i in ids if isinstance(by_id[i].get(c), bool) and c in coding.labels[i]]
        gold = np.array([by_id[i][c] for i in both], bool)
        second = np.array([coding.labels[i][c] for i in both], bool)
        rows.append(
            {
                "criterion": c,
                "n": len(both),
                "gold": int(gold.sum()),
                "second": int(second.sum()),
                "agree": float(np.mean(gold == second)) if both else float("nan"),
                "kappa": cohen_kappa(second, gold),
                "f1": f1(second, gold),
            }
        )
    duties = [(by_id[i].get("duty"), coding.labels[i].get("duty")) for i in ids]
    duties = [(g, s) for g, s in duties if g in DUTIES and s in DUTIES]
    rows.append(
        {
            "criterion": "duty",
            "n": len(duties),
            "gold": sum(g != "not_triggered" for g, _ in duties),
            "second": sum(s != "not_triggered" for _, s in duties),
            "agree": float(np.mean([g == s for g, s in duties])) if duties else float("nan"),
            "kappa": cohen_kappa([g for g, _ in duties], [s for _, s in duties]),
            "f1": float("nan"),
        }
    )
    return rows
