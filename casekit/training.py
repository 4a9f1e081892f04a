"""Train a second reader (:mod:`casekit.reader`) from annotated tuning vignettes.

Training data are sentences. A sentence is a positive example for a criterion when it overlaps
a span a human marked as that criterion's evidence (``data/annotations/<rubric>_*.yaml``), and
a negative one when its vignette's gold label for the criterion is false. Sentences of a
vignette whose criterion is true but outside every marked span are left out for that
criterion: they are neither clearly evidence nor clearly not.

Per criterion: L2-regularised logistic regression on the sentence embeddings, class-balanced;
the regularisation strength and the probability threshold are chosen by 5-fold
cross-validation grouped by vignette, for the vignette-level F1 (a vignette fires a criterion
when any of its sentences does). How each criterion combines with the rules (``or`` or
``rules``) is then chosen on the calibration split — text neither the rules nor the reader
were tuned on — by :func:`choose_combination`.

Run ``python -m casekit.training duty_to_protect`` to rebuild ``data/readers/duty_to_protect.json``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from numpy.typing import NDArray

from casekit.coding import f1 as _f1
from casekit.errors import DataFormatError, Problem
from casekit.io import read_vignettes
from casekit.matching import sentence_spans
from casekit.model import Vignette
from casekit.reader import (
    ENCODER_ID,
    READERS_DIR,
    CriterionHead,
    Encoder,
    ReaderModel,
    SecondReader,
    features,
    read_safetensors,
    write_safetensors,
)
from casekit.rules import load_rubric

if TYPE_CHECKING:
    from casekit.finetune import TrainingCase

__all__ = [
    "Annotations",
    "SentenceSet",
    "adapter_cases",
    "calibration_records",
    "calibration_tag",
    "choose_combination",
    "fit_logistic",
    "read_annotations",
    "sentence_set",
    "train_adapter",
    "train_reader",
]

DATA = Path(__file__).resolve().parent.parent / "data"
ANNOTATIONS_DIR = DATA / "annotations"
VIGNETTES_DIR = DATA / "vignettes"
CALIBRATION_TAG = "calibration"
LAMBDAS = (0.001, 0.01, 0.1)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.96, 0.05))
N_FOLDS = 5
SEED = 20261127

ERR_ANN_SHAPE = "expected a list of records with 'id' and 'evidence'"
ERR_ANN_ID = "no vignette with this id has gold labels for rubric {rubric!r}"
ERR_ANN_FALSE = "evidence for {criterion}, whose gold label is not true"
ERR_ANN_QUOTE = "quote is not in the vignette text: {quote!r}"
ERR_ANN_DUPLICATE = "id annotated twice"

#: id -> criterion -> character spans of the marked evidence
Annotations = dict[str, dict[str, list[tuple[int, int]]]]


def read_annotations(
    rubric: str, vignettes: Sequence[Vignette], folder: Path = ANNOTATIONS_DIR
) -> Annotations:
    """Evidence spans from ``<folder>/<rubric>_*.yaml``, checked against the vignettes.

    Every quote must occur in its vignette's text and belong to a criterion whose gold label is
    true; every problem in every file is reported at once.
    """
    by_id = {v.id: v for v in vignettes if rubric in v.labels}
    spans: Annotations = {}
    problems: list[Problem] = []
    for path in sorted(Path(folder).glob(f"{rubric}_*.yaml")):
        records = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(records, list):
            problems.append(Problem(file=str(path), message=ERR_ANN_SHAPE))
            continue
        for index, rec in enumerate(records):
            rid = str(rec.get("id")) if isinstance(rec, dict) else None
            bad = functools.partial(Problem, str(path), record=index, id=rid)
            if not isinstance(rec, dict) or not isinstance(rec.get("evidence"), dict):
                problems.append(bad(ERR_ANN_SHAPE))
                continue
            v = by_id.get(str(rid))
            if v is None:
                problems.append(bad(ERR_ANN_ID.format(rubric=rubric), field="id"))
                continue
            if v.id in spans:
                problems.append(bad(ERR_ANN_DUPLICATE, field="id"))
                continue
            found: dict[str, list[tuple[int, int]]] = {}
            for criterion, quotes in rec["evidence"].items():
                field = f"evidence.{criterion}"
                if v.labels[rubric].get(criterion) is not True:
                    problems.append(bad(ERR_ANN_FALSE.format(criterion=criterion), field=field))
                    continue
                for quote in quotes or []:
                    start = v.text.find(str(quote))
                    if start < 0:
                        problems.append(bad(ERR_ANN_QUOTE.format(quote=quote), field=field))
                    # every occurrence counts: the annotator quoted the words, not a position
                    while start >= 0:
                        found.setdefault(criterion, []).append((start, start + len(quote)))
                        start = v.text.find(str(quote), start + 1)
            spans[v.id] = found
    if problems:
        raise DataFormatError(problems)
    return spans


@dataclass(frozen=True)
class SentenceSet:
    """Sentences of labelled vignettes with per-criterion targets (1, 0, or -1 = unknown)."""

    criteria: tuple[str, ...]
    vignettes: tuple[Vignette, ...]
    sentences: tuple[str, ...]
    owner: NDArray[np.int64]  # index into vignettes, per sentence
    targets: NDArray[np.int8]  # sentences x criteria
    gold: NDArray[np.bool_]  # vignettes x criteria


def sentence_set(
    rubric: str, criteria: Sequence[str], vignettes: Sequence[Vignette], annotations: Annotations
) -> SentenceSet:
    """Sentence examples from vignettes whose gold labels cover every criterion."""
    kept: list[Vignette] = []
    sentences: list[str] = []
    owner: list[int] = []
    rows: list[list[int]] = []
    gold: list[list[bool]] = []
    for v in vignettes:
        labels = v.labels.get(rubric, {})
        if not all(isinstance(labels.get(c), bool) for c in criteria):
            continue
        truth = [bool(labels[c]) for c in criteria]
        if any(truth) and v.id not in annotations:
            continue  # positives without marked evidence cannot teach a sentence model
        marked = annotations.get(v.id, {})
        for s, e in sentence_spans(v.text):
            row = []
            for c, true in zip(criteria, truth, strict=True):
                if not true:
                    row.append(0)
                else:
                    hit = any(a < e and s < b for a, b in marked.get(c, ()))
                    row.append(1 if hit else -1)
            sentences.append(v.text[s:e])
            owner.append(len(kept))
            rows.append(row)
        kept.append(v)
        gold.append(truth)
    return SentenceSet(
        criteria=tuple(criteria),
        vignettes=tuple(kept),
        sentences=tuple(sentences),
        owner=np.array(owner, np.int64),
        targets=np.array(rows, np.int8).reshape(len(rows), len(criteria)),
        gold=np.array(gold, bool).reshape(len(kept), len(criteria)),
    )


def examples(rubric: str, criteria: Sequence[str]) -> list[tuple[list[str], list[int]]]:
    """The rubric's own ``fires``/``silent`` examples as (sentences, target row) pairs.

    A one-sentence ``fires`` example is a positive for its criterion; every sentence of a
    ``silent`` example is a negative for its criterion; the other criteria are unknown (-1).
    """
    rub = load_rubric(rubric)
    out = []
    for j, cid in enumerate(criteria):
        crit = rub.criterion(cid)
        for text, target in [(t, 1) for t in crit.fires] + [(t, 0) for t in crit.silent]:
            spans = sentence_spans(text)
            if not spans or (target == 1 and len(spans) > 1):
                continue
            row = [-1] * len(criteria)
            row[j] = target
            out.append(([text[a:b] for a, b in spans], row))
    return out


def example_set(
    rubric: str, criteria: Sequence[str], encoder: Encoder, *, context: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Features and targets from the rubric's own examples (:func:`examples`).

    These teach the reader the textbook phrasings the rubric documents; they are training
    rows only and never enter the cross-validated scores. ``context``: each example's
    sentences are read together (:meth:`casekit.reader.Encoder.encode_cases`).
    """
    pairs = examples(rubric, criteria)
    embedded = encoder.encode_cases([sentences for sentences, _ in pairs], context=context)
    blocks, rows = [], []
    for (sentences, row), vectors in zip(pairs, embedded, strict=True):
        blocks.append(features(vectors))
        rows.extend([row] * len(sentences))
    width = 2 * encoder.dim
    x = np.vstack(blocks).astype(np.float64) if blocks else np.zeros((0, width))
    return x, np.array(rows, np.int8).reshape(len(rows), len(criteria))


def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.float64], lam: float
) -> tuple[NDArray[np.float64], float]:
    """Class-balanced, L2-regularised logistic regression; returns (weights, bias) on ``x``.

    Features are standardised for the fit (L-BFGS converges far faster) and the weights
    mapped back, so the result applies to raw ``x``. Each class weighs one half of the loss;
    the penalty is ``lam / 2 * |w|^2`` on the standardised weights.
    """
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    mean = x.mean(0)
    scale = x.std(0) + 1e-6
    z = (x - mean) / scale
    pos = max(float(y.sum()), 1.0)
    neg = max(float(len(y) - y.sum()), 1.0)
    sw = np.where(y > 0, 0.5 / pos, 0.5 / neg)

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w, b = theta[:-1], theta[-1]
        logit = z @ w + b
        value = -float(np.sum(sw * (y * log_expit(logit) + (1 - y) * log_expit(-logit))))
        r = sw * (expit(logit) - y)
        grad = np.concatenate([z.T @ r + lam * w, [r.sum()]])
        return value + 0.5 * lam * float(w @ w), grad

    res = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B")
    w = res.x[:-1] / scale
    return w, float(res.x[-1] - w @ mean)


def _vignette_max(p: NDArray[np.float64], owner: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    out = np.zeros(n)
    np.maximum.at(out, owner, p)
    return out


def _folds(n: int) -> NDArray[np.int64]:
    return np.random.default_rng(SEED).permutation(n) % N_FOLDS


def _cross_validate(
    data: SentenceSet,
    x: NDArray[np.float64],
    j: int,
    extra: tuple[NDArray[np.float64], NDArray[np.int8]],
) -> tuple[float, float, float]:
    """(lambda, threshold, out-of-fold vignette F1) for criterion ``j``.

    ``extra`` rows (the rubric's examples) join the training rows of every fold.
    """
    folds = _folds(len(data.vignettes))
    sentence_fold = folds[data.owner]
    target = data.targets[:, j]
    ex_known = extra[1][:, j] >= 0
    ex_x, ex_y = extra[0][ex_known], extra[1][ex_known, j].astype(float)
    best = (LAMBDAS[0], 0.5, -1.0)
    for lam in LAMBDAS:
        oof = np.zeros(len(target))
        for k in range(N_FOLDS):
            train = (sentence_fold != k) & (target >= 0)
            w, b = fit_logistic(
                np.vstack([x[train], ex_x]),
                np.concatenate([target[train].astype(float), ex_y]),
                lam,
            )
            test = sentence_fold == k
            oof[test] = 1.0 / (1.0 + np.exp(-(x[test] @ w + b)))
        vmax = _vignette_max(oof, data.owner, len(data.vignettes))
        for t in THRESHOLDS:
            f1 = _f1(vmax >= t, data.gold[:, j])
            if f1 > best[2] + 1e-9:
                best = (lam, t, f1)
    return best


def case_features(
    data: SentenceSet, encoder: Encoder, *, context: bool = False
) -> NDArray[np.float64]:
    """:func:`casekit.reader.features` for every sentence, case by case."""
    rows = [np.flatnonzero(data.owner == i) for i in range(len(data.vignettes))]
    embedded = encoder.encode_cases(
        [[data.sentences[r] for r in case] for case in rows], context=context
    )
    out = np.zeros((len(data.sentences), 2 * encoder.dim))
    for case, vectors in zip(rows, embedded, strict=True):
        if len(case):
            out[case] = features(vectors)
    return out


def _digest(data: SentenceSet) -> str:
    h = hashlib.sha256()
    for s, row in zip(data.sentences, data.targets.tolist(), strict=True):
        h.update(s.encode())
        h.update(bytes(v + 1 for v in row))
    return h.hexdigest()


def trained_criteria(rubric: str, tuning: Sequence[Vignette]) -> list[str]:
    """The rubric's criteria that some tuning vignette has a gold label for."""
    return [
        c
        for c in load_rubric(rubric).criterion_ids
        if any(isinstance(v.labels.get(rubric, {}).get(c), bool) for v in tuning)
    ]


def calibration_tag(rubric: str) -> str:
    """The tag that puts a held-out record in one rubric's calibration split only."""
    return f"{CALIBRATION_TAG}-{rubric.replace('_', '-')}"


def calibration_records(vignettes: Sequence[Vignette], rubric: str) -> list[Vignette]:
    """The held-out records ``rubric``'s reader combination is chosen on.

    Those tagged ``calibration`` (every rubric's) or ``calibration-<rubric>`` (that rubric's
    only, e.g. ``calibration-duty-to-protect``), and labelled for ``rubric``.
    """
    tags = {CALIBRATION_TAG, calibration_tag(rubric)}
    return [
        v
        for v in vignettes
        if v.split == "heldout" and rubric in v.labels and not tags.isdisjoint(v.tags)
    ]


def adapter_cases(
    rubrics: Sequence[str], vignettes: Sequence[Vignette], annotations: Mapping[str, Annotations]
) -> tuple[list[TrainingCase], list[tuple[str, str]]]:
    """What an encoder adapter for ``rubrics`` trains on, and its target columns.

    Each rubric's tuning sentences (:func:`sentence_set`) and examples (:func:`examples`),
    with one target column per (rubric, criterion); a column of another rubric is unknown
    (-1) where that rubric has no targets for the case. Per rubric, a fixed fifth of its
    cases (:func:`casekit.finetune.left_out_cases`) keeps its targets out of training, so the
    heads' cross-validated thresholds are not all measured on labels the encoder has learnt;
    a case left out by every rubric that has it is dropped. Cases come in the order the rubrics list
    them, so a single rubric trains on exactly its own sentence set.
    """
    from casekit.finetune import TrainingCase, left_out_cases

    tuning = [v for v in vignettes if v.split == "tuning"]
    columns: list[tuple[str, str]] = []
    sets = []
    for rubric in rubrics:
        criteria = trained_criteria(rubric, tuning)
        sets.append((len(columns), sentence_set(rubric, criteria, tuning, annotations[rubric])))
        columns += [(rubric, c) for c in criteria]
    by_id: dict[str, TrainingCase] = {}
    trained: set[str] = set()
    for offset, data in sets:
        left_out = left_out_cases(len(data.vignettes))
        for i, v in enumerate(data.vignettes):
            rows = np.flatnonzero(data.owner == i)
            case = by_id.setdefault(
                v.id,
                TrainingCase(
                    [data.sentences[r] for r in rows],
                    np.full((len(rows), len(columns)), -1, np.int8),
                ),
            )
            if not left_out[i]:
                case.targets[:, offset : offset + len(data.criteria)] = data.targets[rows]
                trained.add(v.id)
    cases = [case for vid, case in by_id.items() if vid in trained]
    for rubric, (offset, data) in zip(rubrics, sets, strict=True):
        for sentences, row in examples(rubric, data.criteria):
            full = [-1] * len(columns)
            full[offset : offset + len(row)] = row
            cases.append(TrainingCase(sentences, np.array([full] * len(sentences), np.int8)))
    return cases, columns


def train_adapter(
    rubrics: Sequence[str],
    vignettes: Sequence[Vignette],
    annotations: Mapping[str, Annotations],
    encoder: Encoder,
    *,
    epochs: int = 4,
    rank: int = 16,
    context: bool = False,
    seed: int | None = None,
    log: Any = None,
) -> dict[str, NDArray[np.float32]]:
    """Fine-tune one encoder adapter for ``rubrics`` (needs PyTorch; :mod:`casekit.finetune`).

    Trains on :func:`adapter_cases`. One adapter for several rubrics lets their readers share
    one encoder, so scoring with all of them embeds each sentence once. ``context``:
    sentences are read in their case's context, as a reader with ``context`` reads them.
    ``seed``: the adapter's training seed (``None``: :data:`casekit.finetune.SEED`).
    """
    from casekit.finetune import SEED, finetune_adapter

    cases, _ = adapter_cases(rubrics, vignettes, annotations)
    return finetune_adapter(
        cases,
        encoder,
        encoder.folder / "model.safetensors",
        epochs=epochs,
        rank=rank,
        context=context,
        seed=SEED if seed is None else seed,
        log=log,
    )


def train_reader(
    rubric: str,
    vignettes: Sequence[Vignette],
    annotations: Annotations,
    encoder: Encoder,
    criteria: Sequence[str] | None = None,
    *,
    context: bool = False,
) -> tuple[ReaderModel, dict[str, float]]:
    """A reader for ``rubric`` trained on the tuning vignettes, and its out-of-fold F1s.

    ``context``: sentences are embedded in their case's context (the model remembers it).
    """
    tuning = [v for v in vignettes if v.split == "tuning"]
    if criteria is None:
        criteria = trained_criteria(rubric, tuning)
    data = sentence_set(rubric, criteria, tuning, annotations)
    x = case_features(data, encoder, context=context)
    extra = example_set(rubric, criteria, encoder, context=context)
    all_x = np.vstack([x, extra[0]])
    all_y = np.vstack([data.targets, extra[1]])
    heads, cv, lambdas = {}, {}, {}
    for j, c in enumerate(criteria):
        lam, threshold, f1 = _cross_validate(data, x, j, extra)
        known = all_y[:, j] >= 0
        w, b = fit_logistic(all_x[known], all_y[known, j].astype(float), lam)
        heads[c] = CriterionHead(tuple(w.tolist()), b, threshold, "or")
        cv[c], lambdas[c] = round(f1, 4), lam
    provenance = {
        "trained_on": (
            "tuning split (sentences with gold labels and marked evidence) and the rubric's "
            "fires/silent examples"
        ),
        "examples": len(extra[1]),
        "vignettes": len(data.vignettes),
        "sentences": len(data.sentences),
        "data_sha256": _digest(data),
        "cv_f1": cv,
        "lambda": lambdas,
    }
    return ReaderModel(rubric, ENCODER_ID, heads, provenance, context=context), cv


def choose_combination(
    model: ReaderModel,
    calibration: Sequence[Vignette],
    encoder: Encoder,
    *,
    search_thresholds: bool = False,
    make_reader: Callable[[ReaderModel, Encoder], SecondReader] = SecondReader,
) -> tuple[ReaderModel, dict[str, dict[str, Any]]]:
    """Per criterion, the mode with the best F1 on the calibration split.

    Then the model's ``case_requirements`` option: on only if it raises the mean criterion F1
    of the combined scores on the calibration split.

    Candidates: ``rules`` (reader advisory), and ``or`` and ``reader`` at the reader's
    cross-validated threshold. Ties go to ``rules``, then ``or``. With ``search_thresholds``
    (how readers v2 and v3 were made), ``or`` and ``reader`` are tried at every threshold of
    :data:`THRESHOLDS` and ties then go to the threshold closest to the cross-validated one;
    on 130 calibration cases that was no better on fresh text (``bench/README.md``,
    measurement 8; measurement 11 was mixed), so the threshold stays the one
    cross-validation chose.

    ``make_reader`` makes the reader that applies a model (``bench/ensemble.py`` passes one
    that averages several readers' probabilities).
    """
    from casekit.scoring import score

    applied = make_reader(model, encoder)
    rub = load_rubric(model.rubric)
    labelled = [v for v in calibration if model.rubric in v.labels]
    rules_fired = [score(v, rub, explain=False).fired for v in labelled]
    # each case's best sentence probability per criterion (cases without sentences: 0)
    best = np.array(
        [np.max(applied.probabilities(v.text)[1], axis=0, initial=0.0) for v in labelled]
    ).reshape(len(labelled), len(applied.criteria))
    gold = {}  # criterion -> (cases with a gold label for it, those labels)
    for c in model.heads:
        known = [
            i for i, v in enumerate(labelled) if isinstance(v.labels[model.rubric].get(c), bool)
        ]
        gold[c] = (known, np.array([labelled[i].labels[model.rubric][c] for i in known], bool))
    heads, report = dict(model.heads), {}
    for j, (c, head) in enumerate(model.heads.items()):
        known, truth = gold[c]
        rules = np.array([c in rules_fired[i] for i in known], bool)
        best_p = best[known, j]
        candidates = [(_f1(rules, truth), 0, 0.0, "rules", head.threshold)]
        for rank, mode in ((1, "or"), (2, "reader")):
            for t in THRESHOLDS if search_thresholds else (head.threshold,):
                read = best_p >= t
                fired = rules | read if mode == "or" else read
                candidates.append((_f1(fired, truth), rank, abs(t - head.threshold), mode, t))
        f1, _, _, mode, threshold = max(candidates, key=lambda k: (round(k[0], 9), -k[1], -k[2]))
        heads[c] = replace(head, combine=mode, threshold=threshold)
        report[c] = {
            "rules": round(candidates[0][0], 4),
            "chosen": mode,
            "threshold": threshold,
            "f1": round(f1, 4),
            "n": len(known),
        }
    chosen = replace(model, heads=heads)
    # then whether to check the rubric's requirements again over each case after combining
    by_option = {}
    for option in (False, True):
        candidate = make_reader(replace(chosen, case_requirements=option), encoder)
        outcome = [score(v, rub, explain=False, reader=candidate).fired for v in labelled]
        f1s = [
            _f1(np.array([c in outcome[i] for i in known], bool), truth)
            for c, (known, truth) in gold.items()
        ]
        by_option[option] = round(float(np.mean(f1s)), 4)
    case = by_option[True] > by_option[False]
    report["case_requirements"] = {"off": by_option[False], "on": by_option[True], "chosen": case}
    provenance = dict(model.provenance) | {"calibration_f1": report}
    return replace(chosen, case_requirements=case, provenance=provenance), report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m casekit.training RUBRIC [RUBRIC ...]``: retrain ``data/readers/RUBRIC.json``.

    With ``--adapter`` and several rubrics, one adapter is trained for all of them
    (``A+B.adapter.safetensors``) and each rubric's reader is fitted on it.
    """
    parser = argparse.ArgumentParser(prog="python -m casekit.training", description=__doc__)
    parser.add_argument("rubrics", nargs="+", metavar="RUBRIC")
    parser.add_argument("-o", "--output", type=Path, help="the model file (one rubric only)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=READERS_DIR,
        help="folder for the model files (default: %(default)s)",
    )
    parser.add_argument(
        "--search-thresholds",
        action="store_true",
        help=(
            "also choose each reader threshold on the calibration split (readers v2, v3, "
            "and duty_to_protect's since measurement 23)"
        ),
    )
    parser.add_argument(
        "--adapter",
        action="store_true",
        help="first fine-tune an encoder adapter (needs PyTorch; see casekit.finetune)",
    )
    parser.add_argument("--epochs", type=int, default=4, help="adapter training epochs")
    parser.add_argument("--rank", type=int, default=16, help="adapter rank")
    parser.add_argument(
        "--context",
        action="store_true",
        help="read each sentence in its case's context (encoder inputs span sentences)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="adapter training seed (default: the one the shipped readers were trained with)",
    )
    args = parser.parse_args(argv)
    if args.output and len(args.rubrics) > 1:
        parser.error("-o names one model file; use --dir for several rubrics")
    outs = {r: args.output or args.dir / f"{r}.json" for r in args.rubrics}
    vignettes = read_vignettes(VIGNETTES_DIR)
    annotations = {r: read_annotations(r, vignettes) for r in args.rubrics}
    encoder = Encoder()
    adapter_path = None
    training: dict[str, Any] = {"rank": args.rank, "epochs": args.epochs}
    if args.context:
        training["context"] = True
    if args.seed is not None:
        training["seed"] = args.seed
    if args.adapter:
        adapter = train_adapter(
            args.rubrics,
            vignettes,
            annotations,
            encoder,
            epochs=args.epochs,
            rank=args.rank,
            context=args.context,
            seed=args.seed,
            log=lambda line: print(line, flush=True),
        )
        first = outs[args.rubrics[0]]
        stem = first.stem if len(args.rubrics) == 1 else "+".join(args.rubrics)
        if len(args.rubrics) > 1:
            training["rubrics"] = list(args.rubrics)
        adapter_path = first.with_name(f"{stem}.adapter.safetensors")
        adapter_path.parent.mkdir(parents=True, exist_ok=True)
        write_safetensors(adapter_path, adapter)
        encoder = Encoder(adapter=read_safetensors(adapter_path))
    for rubric, out in outs.items():
        model, cv = train_reader(
            rubric, vignettes, annotations[rubric], encoder, context=args.context
        )
        if adapter_path is not None:
            model = replace(
                model,
                adapter=adapter_path.name,
                adapter_sha256=hashlib.sha256(adapter_path.read_bytes()).hexdigest(),
                provenance=dict(model.provenance) | {"adapter_training": training},
            )
        model, report = choose_combination(
            model,
            calibration_records(vignettes, rubric),
            encoder,
            search_thresholds=args.search_thresholds,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        model.to_file(out)
        print(json.dumps({"rubric": rubric, "cv_f1": cv, "calibration": report}, indent=1))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
