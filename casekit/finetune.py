"""Fine-tune the reader's encoder for one rubric: low-rank adapters trained with PyTorch.

A linear head on the published embeddings cannot re-read a sentence: "he said he would never
hurt her" and "he said he would hurt her" sit close together. Training the encoder itself on
the rubric's marked evidence lets it weigh the words that decide a criterion. Only small
low-rank updates are trained (LoRA, Hu et al. 2021: ``W + B A`` for every dense layer of the
six transformer layers, plus the layer norms), so the trained part is a 3–5 MB file beside the
reader's JSON, not a second copy of the 90 MB encoder. casekit merges it into the NumPy
encoder at load (:class:`casekit.reader.Encoder`'s ``adapter``); PyTorch is needed only here,
to train (``pip install 'torch>=2.2'``; it is not a dependency of casekit).

Training data are the tuning split's sentences with their per-criterion targets (1 where the
sentence holds marked evidence, 0 where the case's gold label is false, unknown otherwise)
and the rubric's own ``fires``/``silent`` examples, as for the linear reader
(:func:`casekit.training.sentence_set`). Each batch is a few whole cases, so a sentence is
read beside its case's mean embedding exactly as at scoring time. A fixed fifth of the
tuning cases (seeded) is left out of the adapter's training, so the heads' cross-validated
thresholds, fitted afterwards on every tuning case, are not all measured on sentences the
encoder has already learnt.

Run through ``python -m casekit.training RUBRIC --adapter``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from casekit.reader import ADAPTED_LINEARS, Encoder, context_windows, pad, read_safetensors

__all__ = ["LEFT_OUT", "TrainingCase", "finetune_adapter", "left_out_cases"]

#: One case in this many (seeded) stays out of the adapter's training.
LEFT_OUT = 5
SEED = 20261127


class TrainingCase:
    """Sentences of one case and their targets (sentences x criteria; 1, 0 or -1 unknown)."""

    __slots__ = ("sentences", "targets")

    def __init__(self, sentences: Sequence[str], targets: NDArray[np.int8]) -> None:
        self.sentences = tuple(sentences)
        self.targets = targets


def left_out_cases(n: int) -> NDArray[np.bool_]:
    """Which of ``n`` tuning cases the adapter does not train on (the same fifth every run)."""
    return np.random.default_rng(SEED).permutation(n) % LEFT_OUT == 0


def _torch_encoder(
    base: dict[str, NDArray[Any]],
    rank: int,
    alpha: float,
    heads: int = 12,
    eps: float = 1e-12,
    seed: int = SEED,
) -> Any:
    """all-MiniLM-L6-v2 as a PyTorch module: frozen published weights, trainable adapters.

    The same post-LN BERT, mean pooling and unit length as :class:`casekit.reader.Encoder`
    (``tests/test_adapter.py`` checks that the two agree, with and without an adapter).
    """
    import torch
    import torch.nn.functional as F

    class Adapted(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = sum(1 for k in base if k.endswith("attention.self.query.weight"))
            self.scale = alpha / rank
            for key, value in base.items():
                if "position_ids" in key or key.startswith("pooler"):
                    continue
                self.register_buffer(_safe(key), torch.tensor(np.asarray(value, np.float32)))
            gen = torch.Generator().manual_seed(seed)
            self.lora = torch.nn.ParameterDict()
            self.norms = torch.nn.ParameterDict()
            for i in range(self.layers):
                for name in ADAPTED_LINEARS:
                    out, inp = base[f"encoder.layer.{i}.{name}.weight"].shape
                    a = torch.randn(rank, inp, generator=gen) / math.sqrt(inp)
                    self.lora[_safe(f"{i}.{name}.a")] = torch.nn.Parameter(a)
                    self.lora[_safe(f"{i}.{name}.b")] = torch.nn.Parameter(torch.zeros(out, rank))
                for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
                    for part in ("weight", "bias"):
                        key = f"encoder.layer.{i}.{norm}.{part}"
                        self.norms[_safe(key)] = torch.nn.Parameter(self.get(key).clone())

        def get(self, key: str) -> Any:
            return getattr(self, _safe(key))

        def linear(self, x: Any, i: int, name: str) -> Any:
            p = f"encoder.layer.{i}.{name}"
            a, b = self.lora[_safe(f"{i}.{name}.a")], self.lora[_safe(f"{i}.{name}.b")]
            out = x @ self.get(p + ".weight").T + self.get(p + ".bias")
            return out + (x @ a.T @ b.T) * self.scale

        def norm(self, x: Any, i: int, name: str) -> Any:
            p = f"encoder.layer.{i}.{name}"
            w, b = self.norms[_safe(p + ".weight")], self.norms[_safe(p + ".bias")]
            return F.layer_norm(x, (x.shape[-1],), w, b, eps)

        def forward(self, ids: Any, mask: Any) -> Any:
            """Unit-length mean-pooled embeddings, one per row of ``ids``."""
            x = self.states(ids, mask)
            m = mask[..., None]
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return F.normalize(pooled, dim=-1)

        def in_context(self, windows: Sequence[Any]) -> Any:
            """Sentence embeddings of one case read in context (:func:`context_windows`)."""
            ids, mask = _batch([ids for ids, _ in windows])
            x = self.states(ids, mask)
            pooled = [
                x[w, a:b].mean(0) for w, (_, owned) in enumerate(windows) for _, a, b in owned
            ]
            return F.normalize(torch.stack(pooled), dim=-1)

        def states(self, ids: Any, mask: Any) -> Any:
            """Token states after the last layer."""
            g = self.get
            x = (
                g("embeddings.word_embeddings.weight")[ids]
                + g("embeddings.position_embeddings.weight")[: ids.shape[1]]
                + g("embeddings.token_type_embeddings.weight")[0]
            )
            x = F.layer_norm(
                x,
                (x.shape[-1],),
                g("embeddings.LayerNorm.weight"),
                g("embeddings.LayerNorm.bias"),
                eps,
            )
            batch, length, dim = x.shape
            dh = dim // heads
            key_bias = (1.0 - mask)[:, None, None, :] * -1e9
            for i in range(self.layers):
                q, k, v = (
                    self.linear(x, i, f"attention.self.{n}")
                    .view(batch, length, heads, dh)
                    .transpose(1, 2)
                    for n in ("query", "key", "value")
                )
                att = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + key_bias
                ctx = (att.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, dim)
                x = self.norm(
                    x + self.linear(ctx, i, "attention.output.dense"),
                    i,
                    "attention.output.LayerNorm",
                )
                h = F.gelu(self.linear(x, i, "intermediate.dense"))
                x = self.norm(x + self.linear(h, i, "output.dense"), i, "output.LayerNorm")
            return x

        def adapter(self) -> dict[str, NDArray[np.float32]]:
            """The trained part, named as :meth:`casekit.reader.Encoder` expects it."""
            out: dict[str, NDArray[np.float32]] = {}
            for i in range(self.layers):
                for name in ADAPTED_LINEARS:
                    a = self.lora[_safe(f"{i}.{name}.a")].detach().numpy()
                    b = self.lora[_safe(f"{i}.{name}.b")].detach().numpy() * self.scale
                    out[f"encoder.layer.{i}.{name}.lora_a"] = a.astype(np.float32)
                    out[f"encoder.layer.{i}.{name}.lora_b"] = b.astype(np.float32)
            for key, value in self.norms.items():
                out[key.replace("__", ".")] = value.detach().numpy().astype(np.float32)
            return out

    return Adapted()


def _safe(key: str) -> str:
    return key.replace(".", "__")


def finetune_adapter(
    cases: Sequence[TrainingCase],
    encoder: Encoder,
    base_path: Any,
    *,
    rank: int = 16,
    alpha: float = 32.0,
    epochs: int = 4,
    batch_cases: int = 8,
    lr: float = 5e-4,
    context: bool = False,
    seed: int = SEED,
    log: Any = None,
) -> dict[str, NDArray[np.float32]]:
    """Train adapters (and a throwaway linear head) on ``cases``; return the adapter tensors.

    ``context``: each case's sentences are read together, as
    :meth:`casekit.reader.Encoder.encode_cases` reads them with ``context=True``.
    ``seed`` sets the adapters' initialisation and the order cases are trained in (the
    left-out fifth, :func:`left_out_cases`, does not depend on it).

    ``encoder`` supplies the tokenizer and dimensions; ``base_path`` is the published
    ``model.safetensors``. The loss is the class-balanced binary cross-entropy of every known
    (sentence, criterion) target; the head is discarded afterwards (casekit's own heads are
    fitted on the adapted embeddings by :func:`casekit.training.train_reader`).
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    model = _torch_encoder(
        read_safetensors(base_path), rank, alpha, encoder.heads, encoder.eps, seed
    )
    k = cases[0].targets.shape[1]
    head = torch.nn.Linear(2 * encoder.dim, k)
    every = np.vstack([c.targets for c in cases])
    pos = (every == 1).sum(0)
    neg = (every == 0).sum(0)
    pos_weight = torch.tensor(neg / np.maximum(pos, 1), dtype=torch.float32)
    tok = encoder.tokenizer
    inputs: list[Any]
    if context:
        inputs = [
            context_windows([tok.pieces(s) or [tok.unk] for s in c.sentences], tok.cls, tok.sep)
            for c in cases
        ]
    else:
        inputs = [[tok.encode(s) for s in c.sentences] for c in cases]
    params = [
        {"params": list(model.lora.parameters()) + list(model.norms.parameters()), "lr": lr},
        {"params": list(head.parameters()), "lr": 1e-3},
    ]
    opt = torch.optim.AdamW(params, weight_decay=0.0)
    steps = epochs * math.ceil(len(cases) / batch_cases)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps)
    )
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(cases))
        total = 0.0
        for start in range(0, len(order), batch_cases):
            loss = torch.zeros(())
            known_total = 0
            for ci in order[start : start + batch_cases]:
                e = model.in_context(inputs[ci]) if context else model(*_batch(inputs[ci]))
                mean = F.normalize(e.mean(0, keepdim=True), dim=-1).expand_as(e)
                logit = head(torch.cat([e, mean], -1))
                y = torch.tensor(cases[ci].targets, dtype=torch.float32)
                known = y >= 0
                each = F.binary_cross_entropy_with_logits(
                    logit, y.clamp(min=0), pos_weight=pos_weight, reduction="none"
                )
                loss = loss + (each * known).sum()
                known_total += int(known.sum())
            loss = loss / max(known_total, 1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {total:.2f}")
    return model.adapter()


def _batch(rows: Sequence[Sequence[int]]) -> tuple[Any, Any]:
    """Token ids and mask as tensors (:func:`casekit.reader.pad`, the encoder's own padding)."""
    import torch

    ids, mask = pad(rows, np.int64)
    return torch.from_numpy(ids), torch.from_numpy(mask)
