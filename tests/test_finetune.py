"""The hand-written backward pass of :mod:`casekit.finetune`, against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from tests.reader_support import needs_encoder

pytestmark = needs_encoder


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    from bench.finetune_probe import Trainer
    from casekit.reader import pad as rd_pad
    from casekit.reader import shared_encoder

    enc = shared_encoder()
    rng = np.random.default_rng(7)
    layer = enc.layer_weights(enc.layers - 1)
    w = rng.normal(0, 0.5, (2 * enc.dim, 3)).astype(np.float32)
    b = rng.normal(0, 0.1, 3).astype(np.float32)
    trainer = Trainer(enc, layer, w, b)
    texts = ["He said he would kill her tonight.", "No plan.", "She denies any thoughts of harm."]
    ids = [enc.tokenizer.encode(t) for t in texts]
    tok, mask = rd_pad(ids, np.int64)
    x = enc._trunk(tok, mask, enc.layers - 1)
    context = rng.normal(0, 0.05, (3, enc.dim)).astype(np.float32)
    targets = np.array([[1, 0, -1], [0, 0, 1], [0, 1, 0]], np.int8)
    weights = np.ones((3, 3), np.float32)
    return enc, trainer, x, mask, context, targets, weights, tok


def test_embed_matches_the_encoder_forward(setup) -> None:  # type: ignore[no-untyped-def]
    enc, trainer, x, mask, *_, tok = setup
    z, _ = trainer.embed(x, mask)
    assert np.allclose(z, enc._forward(tok, mask), atol=1e-5)


@pytest.mark.parametrize(
    "key", ["head_w", "head_b", "ln2_w", "ff2_w", "ff1_b", "ff1_w", "ln1_b", "out_w", "qkv_w",
            "qkv_b"]
)  # fmt: skip
def test_gradient_matches_finite_differences(setup, key: str) -> None:  # type: ignore[no-untyped-def]
    _, trainer, x, mask, context, targets, weights, _ = setup
    x64 = x.astype(np.float64)
    _, grads = trainer.loss_and_grads(x, mask, context, targets, weights)
    rng = np.random.default_rng(hash(key) % 2**32)
    param = trainer.p[key]
    saved = param.copy()
    checked = 0
    for _ in range(6):
        idx = tuple(int(rng.integers(0, n)) for n in param.shape)
        eps = 1e-2 * max(1.0, abs(float(saved[idx])))
        up = saved.copy()
        up[idx] += eps
        trainer.p[key] = up
        plus = trainer.loss_and_grads(x64.astype(np.float32), mask, context, targets, weights)[0]
        down = saved.copy()
        down[idx] -= eps
        trainer.p[key] = down
        minus = trainer.loss_and_grads(x, mask, context, targets, weights)[0]
        trainer.p[key] = saved
        numeric = (plus - minus) / (2 * eps)
        analytic = float(grads[key][idx])
        assert analytic == pytest.approx(numeric, rel=0.05, abs=2e-4), (key, idx)
        checked += 1
    assert checked == 6
