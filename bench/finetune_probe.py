"""Probe: does fine-tuning the encoder's last layer (with the heads) beat the frozen reader?

A linear head on frozen sentence embeddings learns which regions of embedding space mean
"a threat", but it cannot re-read a sentence: "he said he would never hurt her" and "he
said he would hurt her" sit close together. Fine-tuning the last transformer layer lets the
model re-weigh the words of a sentence for the criteria (negation, whose words they are,
whether a time word belongs to the threat). Only that layer and the heads train; the first
layers stay as published, so the token states they produce are computed once.

The backward pass is written out by hand (a post-LN BERT layer, mean pooling, unit length,
logistic heads); ``tests/test_finetune.py`` checks it against finite differences. Training
minimises the class-balanced logistic loss of every known (sentence, criterion) target plus
``decay / 2 * |theta - theta_0|^2``, a pull back towards the published weights that keeps a
few thousand sentences from wrecking what the layer knew.

The probe holds out one fold (a fifth of the tuning vignettes, grouped) as a dev set,
starts from logistic heads on the frozen features (epoch 0 is the frozen reader), trains the
layer and heads, and after every epoch prints the mean vignette-level F1 on the dev fold (at
each criterion's best dev threshold) and on the calibration split (at those thresholds).

Run: ``OPENBLAS_NUM_THREADS=2 .venv/bin/python bench/finetune_probe.py RUBRIC [--epochs 10]
[--lr 2e-4]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.reader import LAYER_KEYS, Encoder, pad  # noqa: E402

F32 = NDArray[np.float32]
Params = dict[str, F32]


@dataclass(frozen=True)
class LayerData:
    """Token states entering the last layer, per sentence, with targets and case context.

    ``states[i]`` is sentence ``i``'s (tokens x dim) input to the last layer; ``context[i]``
    the rest of its feature vector (the case's mean embedding); ``targets[i, j]`` is 1, 0 or
    -1 (unknown) for criterion ``j``.
    """

    states: tuple[F32, ...]
    context: F32
    targets: NDArray[np.int8]


def layer_data(
    encoder: Encoder, sentences: Sequence[str], context: F32, targets: NDArray[np.int8]
) -> LayerData:
    """Run the frozen layers over ``sentences`` once (batched by length)."""
    encoded = [encoder.tokenizer.encode(s) for s in sentences]
    order = sorted(range(len(encoded)), key=lambda r: len(encoded[r]))
    states: list[F32 | None] = [None] * len(encoded)
    for start in range(0, len(order), 64):
        rows = order[start : start + 64]
        ids, mask = pad([encoded[r] for r in rows], np.int64)
        x = encoder._trunk(ids, mask, encoder.layers - 1)
        for j, r in enumerate(rows):
            states[r] = np.ascontiguousarray(x[j, : len(encoded[r])])
    return LayerData(tuple(s for s in states if s is not None), context, targets)


def _ln_forward(x: F32, g: F32, b: F32, eps: float) -> tuple[F32, tuple[F32, F32]]:
    mu = x.mean(-1, keepdims=True)
    inv = 1.0 / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps)
    xhat = (x - mu) * inv
    return xhat * g + b, (xhat, inv)


def _ln_backward(dy: F32, g: F32, cache: tuple[F32, F32]) -> tuple[F32, F32, F32]:
    xhat, inv = cache
    axes = tuple(range(dy.ndim - 1))
    dg, db = (dy * xhat).sum(axes), dy.sum(axes)
    dxhat = dy * g
    dx = inv * (
        dxhat - dxhat.mean(-1, keepdims=True) - xhat * (dxhat * xhat).mean(-1, keepdims=True)
    )
    return dx, dg, db


class Trainer:
    """The last layer plus linear heads: forward, backward and Adam steps.

    ``layer`` holds the layer's weights by :data:`casekit.reader.LAYER_KEYS`; ``w``/``b`` are
    the heads (features x criteria, criteria).
    """

    def __init__(
        self,
        encoder: Encoder,
        layer: Mapping[str, F32],
        w: F32,
        b: F32,
        *,
        decay: float = 1e-3,
        lr: float = 5e-5,
        head_lr: float = 1e-3,
    ) -> None:
        from scipy.special import erf

        self._erf = erf
        self.heads, self.eps, self.dim = encoder.heads, encoder.eps, encoder.dim
        self.p: Params = {k: np.array(layer[k], np.float32) for k in LAYER_KEYS}
        self.p["head_w"] = np.array(w, np.float32)
        self.p["head_b"] = np.array(b, np.float32)
        self.origin = {k: v.copy() for k, v in self.p.items()}
        self.decay, self.lr, self.head_lr = decay, lr, head_lr
        self._m = {k: np.zeros_like(v) for k, v in self.p.items()}
        self._v = {k: np.zeros_like(v) for k, v in self.p.items()}
        self._t = 0

    # ------------------------------------------------------------------ forward / backward

    def embed(self, x: F32, mask: F32) -> tuple[F32, dict[str, Any]]:
        """Unit-length sentence embeddings from last-layer inputs ``x``, with the cache."""
        p, (bsz, length, dim), heads = self.p, x.shape, self.heads
        dh = dim // heads
        scale = np.float32(1.0 / np.sqrt(dh))
        qkv = (x @ p["qkv_w"] + p["qkv_b"]).reshape(bsz, length, 3, heads, dh)
        q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        s = (q @ k.transpose(0, 1, 3, 2)) * scale + ((1.0 - mask) * np.float32(-1e9))[
            :, None, None, :
        ]
        att = np.exp(s - s.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(bsz, length, dim)
        u, ln1 = _ln_forward(x + ctx @ p["out_w"] + p["out_b"], p["ln1_w"], p["ln1_b"], self.eps)
        hp = u @ p["ff1_w"] + p["ff1_b"]
        cdf = 0.5 * (1.0 + self._erf(hp * np.float32(1.0 / np.sqrt(2.0))))
        h = hp * cdf
        y, ln2 = _ln_forward(u + h @ p["ff2_w"] + p["ff2_b"], p["ln2_w"], p["ln2_b"], self.eps)
        count = np.maximum(mask.sum(1, keepdims=True), 1e-9)
        pooled = (y * mask[:, :, None]).sum(1) / count
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        z = pooled / norm
        cache = dict(
            x=x, mask=mask, q=q, k=k, v=v, att=att, ctx=ctx, u=u, ln1=ln1, hp=hp, cdf=cdf, h=h,
            ln2=ln2, count=count, norm=norm, z=z,
        )  # fmt: skip
        return z.astype(np.float32), cache

    def logits(self, z: F32, context: F32) -> F32:
        return np.hstack([z, context]) @ self.p["head_w"] + self.p["head_b"]

    def loss_and_grads(
        self, x: F32, mask: F32, context: F32, targets: NDArray[np.int8], weights: F32
    ) -> tuple[float, Params]:
        """Weighted logistic loss of a batch (no decay term) and its gradients."""
        from scipy.special import expit, log_expit

        p = self.p
        z, c = self.embed(x, mask)
        feats = np.hstack([z, context])
        logit = feats @ p["head_w"] + p["head_b"]
        known = targets >= 0
        y = np.where(known, targets, 0).astype(np.float32)
        wt = np.where(known, weights, 0.0).astype(np.float32)
        loss = -float(np.sum(wt * (y * log_expit(logit) + (1 - y) * log_expit(-logit))))
        dlogit = (wt * (expit(logit) - y)).astype(np.float32)
        g: Params = {"head_w": feats.T @ dlogit, "head_b": dlogit.sum(0)}
        dz = (dlogit @ p["head_w"].T)[:, : self.dim]
        # unit length, then mean pooling
        zc = c["z"]
        dpooled = (dz - zc * (zc * dz).sum(1, keepdims=True)) / c["norm"]
        dy = (c["mask"][:, :, None] * (dpooled / c["count"])[:, None, :]).astype(np.float32)
        # second add & norm, feed-forward
        dpre, g["ln2_w"], g["ln2_b"] = _ln_backward(dy, p["ln2_w"], c["ln2"])
        flat = dpre.reshape(-1, self.dim)
        g["ff2_w"] = c["h"].reshape(-1, c["h"].shape[-1]).T @ flat
        g["ff2_b"] = flat.sum(0)
        dh = dpre @ p["ff2_w"].T
        hp = c["hp"]
        pdf = np.exp(-0.5 * hp * hp) * np.float32(1.0 / np.sqrt(2.0 * np.pi))
        dhp = dh * (c["cdf"] + hp * pdf)
        g["ff1_w"] = c["u"].reshape(-1, self.dim).T @ dhp.reshape(-1, dhp.shape[-1])
        g["ff1_b"] = dhp.reshape(-1, dhp.shape[-1]).sum(0)
        du = dpre + dhp @ p["ff1_w"].T
        # first add & norm, attention
        da, g["ln1_w"], g["ln1_b"] = _ln_backward(du, p["ln1_w"], c["ln1"])
        g["out_w"] = c["ctx"].reshape(-1, self.dim).T @ da.reshape(-1, self.dim)
        g["out_b"] = da.reshape(-1, self.dim).sum(0)
        bsz, length, dim = x.shape
        heads, dh_ = self.heads, dim // self.heads
        dctx = (da @ p["out_w"].T).reshape(bsz, length, heads, dh_).transpose(0, 2, 1, 3)
        att = c["att"]
        datt = dctx @ c["v"].transpose(0, 1, 3, 2)
        dv = att.transpose(0, 1, 3, 2) @ dctx
        ds = att * (datt - (datt * att).sum(-1, keepdims=True)) * np.float32(1.0 / np.sqrt(dh_))
        dq = ds @ c["k"]
        dk = ds.transpose(0, 1, 3, 2) @ c["q"]
        dqkv = np.stack([dq, dk, dv], axis=2)  # batch, heads, 3, tokens, dh
        dqkv = dqkv.transpose(0, 3, 2, 1, 4).reshape(bsz * length, 3 * dim)
        g["qkv_w"] = c["x"].reshape(-1, dim).T @ dqkv
        g["qkv_b"] = dqkv.sum(0)
        return loss, {k: np.asarray(v, np.float32) for k, v in g.items()}

    # ------------------------------------------------------------------ training

    def step(self, grads: Params) -> None:
        """One Adam step on ``grads`` plus the decay towards the starting weights."""
        self._t += 1
        b1, b2 = 0.9, 0.999
        for k, grad in grads.items():
            grad = grad + self.decay * (self.p[k] - self.origin[k])
            self._m[k] = b1 * self._m[k] + (1 - b1) * grad
            self._v[k] = b2 * self._v[k] + (1 - b2) * grad * grad
            m_hat = self._m[k] / (1 - b1**self._t)
            v_hat = self._v[k] / (1 - b2**self._t)
            lr = self.head_lr if k.startswith("head_") else self.lr
            self.p[k] -= (lr * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(np.float32)

    def fit_epoch(
        self, data: LayerData, weights: F32, rng: np.random.Generator, batch: int = 32
    ) -> float:
        """One pass over ``data`` in length-sorted batches taken in random order."""
        order = sorted(range(len(data.states)), key=lambda r: len(data.states[r]))
        batches = [order[i : i + batch] for i in range(0, len(order), batch)]
        total = 0.0
        for bi in rng.permutation(len(batches)):
            rows = batches[bi]
            x, mask = pad([data.states[r] for r in rows], np.float32)
            loss, grads = self.loss_and_grads(
                x, mask, data.context[rows], data.targets[rows], weights[rows]
            )
            self.step({k: (g / len(rows)).astype(np.float32) for k, g in grads.items()})
            total += loss
        return total

    def predict(self, data: LayerData, batch: int = 64) -> tuple[F32, NDArray[np.float64]]:
        """(sentence embeddings, probabilities) for every sentence of ``data``."""
        from scipy.special import expit

        z = np.zeros((len(data.states), self.dim), np.float32)
        order = sorted(range(len(data.states)), key=lambda r: len(data.states[r]))
        for i in range(0, len(order), batch):
            rows = order[i : i + batch]
            x, mask = pad([data.states[r] for r in rows], np.float32)
            z[rows] = self.embed(x, mask)[0]
        return z, expit(self.logits(z, data.context).astype(np.float64))

    def layer(self) -> Params:
        """The trained layer's weights by :data:`casekit.reader.LAYER_KEYS` name."""
        return {k: self.p[k].copy() for k in LAYER_KEYS}


def balanced_weights(targets: NDArray[np.int8]) -> F32:
    """Per (row, criterion): each class of a criterion weighs half, averaging 1 per known row."""
    known = targets >= 0
    pos = np.maximum((targets == 1).sum(0), 1)
    neg = np.maximum((targets == 0).sum(0), 1)
    w = np.where(targets == 1, 0.5 / pos, 0.5 / neg) * known.sum(0)
    return (w * known).astype(np.float32)


def main() -> None:
    from casekit import training as tr
    from casekit.io import read_vignettes
    from casekit.matching import sentence_spans
    from casekit.reader import features
    from casekit.rules import load_rubric

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rubric")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=2e-4)
    args = parser.parse_args()
    rubric = load_rubric(args.rubric)
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    annotations = tr.read_annotations(args.rubric, vignettes)
    tuning = [v for v in vignettes if v.split == "tuning"]
    calibration = tr.calibration_records(vignettes, args.rubric)
    criteria = [
        c
        for c in rubric.criterion_ids
        if any(isinstance(v.labels.get(args.rubric, {}).get(c), bool) for v in tuning)
    ]
    enc = Encoder()
    data = tr.sentence_set(args.rubric, criteria, tuning, annotations)

    def case_context(sentences: Sequence[str], owner: NDArray[np.int64]) -> F32:
        base = enc.encode(list(sentences), batch_size=64)
        out = np.zeros_like(base)
        for i in np.unique(owner):
            rows = np.flatnonzero(owner == i)
            out[rows] = features(base[rows])[:, enc.dim :]
        return out

    # the rubric's examples: extra training rows, each its own case
    ex_sent, ex_owner, ex_rows = [], [], []
    for j, cid in enumerate(criteria):
        crit = rubric.criterion(cid)
        for k, (text, target) in enumerate(
            [(t, 1) for t in crit.fires] + [(t, 0) for t in crit.silent]
        ):
            spans = sentence_spans(text)
            if not spans or (target == 1 and len(spans) > 1):
                continue
            row = [-1] * len(criteria)
            row[j] = target
            ex_sent += [text[a:b] for a, b in spans]
            ex_owner += [hash((cid, k))] * len(spans)
            ex_rows += [row] * len(spans)
    context = np.vstack(
        [case_context(data.sentences, data.owner), case_context(ex_sent, np.array(ex_owner))]
    )
    targets = np.vstack([data.targets, np.array(ex_rows, np.int8).reshape(-1, len(criteria))])
    dev_case = np.random.default_rng(5).permutation(len(data.vignettes)) % 5 == 0
    n_own = len(data.sentences)
    train = np.concatenate([~dev_case[data.owner], np.ones(len(ex_sent), bool)])
    every = layer_data(enc, list(data.sentences) + ex_sent, context, targets)
    fit = LayerData(
        tuple(s for s, k in zip(every.states, train, strict=True) if k),
        context[train],
        targets[train],
    )
    dev_rows = np.flatnonzero(~train[:n_own])
    dev = LayerData(tuple(every.states[i] for i in dev_rows), context[dev_rows], targets[dev_rows])
    dev_owner = data.owner[dev_rows]
    # starting heads: logistic regression on the frozen features of the training rows
    frozen = np.hstack([enc.encode(list(data.sentences) + ex_sent), context])[train]
    w0 = np.zeros((2 * enc.dim, len(criteria)), np.float32)
    b0 = np.zeros(len(criteria), np.float32)
    for j in range(len(criteria)):
        known = fit.targets[:, j] >= 0
        w, b = tr.fit_logistic(frozen[known].astype(np.float64), fit.targets[known, j] * 1.0, 0.01)
        w0[:, j], b0[j] = w, b
    trainer = Trainer(enc, enc.layer_weights(enc.layers - 1), w0, b0, lr=args.lr, decay=0.0)
    cal_sent, cal_owner = [], []
    for i, v in enumerate(calibration):
        spans = sentence_spans(v.text)
        cal_sent += [v.text[a:b] for a, b in spans]
        cal_owner += [i] * len(spans)
    cal_owner_a = np.array(cal_owner)
    cal = layer_data(
        enc,
        cal_sent,
        case_context(cal_sent, cal_owner_a),
        np.zeros((len(cal_sent), len(criteria)), np.int8),
    )
    dev_cases = np.unique(dev_owner)

    def report(tag: str) -> None:
        p_dev = trainer.predict(dev)[1]
        vmax = np.zeros((len(data.vignettes), len(criteria)))
        np.maximum.at(vmax, dev_owner, p_dev)
        cmax = np.zeros((len(calibration), len(criteria)))
        np.maximum.at(cmax, cal_owner_a, trainer.predict(cal)[1])
        f_dev, f_cal = [], []
        for j, c in enumerate(criteria):
            truth = data.gold[dev_cases, j]
            t = max(tr.THRESHOLDS, key=lambda t: tr._f1(vmax[dev_cases, j] >= t, truth))
            f_dev.append(tr._f1(vmax[dev_cases, j] >= t, truth))
            known = [
                i
                for i, v in enumerate(calibration)
                if isinstance(v.labels[args.rubric].get(c), bool)
            ]
            gold = np.array([calibration[i].labels[args.rubric][c] for i in known], bool)
            f_cal.append(tr._f1(cmax[known, j] >= t, gold))
        print(
            f"{tag:<34} dev F1 {np.mean(f_dev):.3f}  calibration F1 {np.mean(f_cal):.3f}",
            flush=True,
        )

    print(
        f"{args.rubric}: {len(fit.states)} training sentences, {len(dev.states)} dev, "
        f"{len(cal.states)} calibration"
    )
    report("epoch 0 (frozen reader)")
    weights = balanced_weights(fit.targets)
    rng = np.random.default_rng(1)
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        loss = trainer.fit_epoch(fit, weights, rng) / len(fit.states)
        report(f"epoch {epoch} (loss {loss:.3f}, {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
