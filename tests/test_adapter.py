"""Fine-tuned encoder adapters: files, merging, loading, and (with PyTorch) training."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from reader_support import needs_encoder

from casekit import reader as rd

try:
    import torch
except ImportError:  # PyTorch is needed only to train adapters; .ci/run installs it
    torch = None

needs_torch = pytest.mark.skipif(
    torch is None and not os.environ.get("CI"), reason="pip install torch==2.13.0"
)

SENTENCES = [
    "He said he would kill his boss tomorrow.",
    "She sleeps badly.",
    "No plan, no means, no intent at all, she says.",
]


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "encoder.layer.0.output.dense.weight": rng.normal(size=(4, 6)).astype(np.float32),
        "encoder.layer.0.output.LayerNorm.weight": np.ones(4, np.float32),
    }


def test_safetensors_written_are_read_back(tmp_path: Path) -> None:
    tensors = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.ones(4, np.float32)}
    rd.write_safetensors(tmp_path / "t.safetensors", tensors)
    back = rd.read_safetensors(tmp_path / "t.safetensors")
    assert set(back) == {"a", "b"}
    for name, array in tensors.items():
        np.testing.assert_array_equal(back[name], array)
        assert back[name].shape == array.shape


def test_merge_adds_the_low_rank_update_and_replaces_norms() -> None:
    w = _weights()
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2, 6)).astype(np.float32)
    b = rng.normal(size=(4, 2)).astype(np.float32)
    norm = np.full(4, 2.0, np.float32)
    merged = rd.merge_adapter(
        w,
        {
            "encoder.layer.0.output.dense.lora_a": a,
            "encoder.layer.0.output.dense.lora_b": b,
            "encoder.layer.0.output.LayerNorm.weight": norm,
        },
    )
    key = "encoder.layer.0.output.dense.weight"
    np.testing.assert_allclose(merged[key], w[key] + b @ a, rtol=1e-6)
    np.testing.assert_array_equal(merged["encoder.layer.0.output.LayerNorm.weight"], norm)
    np.testing.assert_array_equal(w[key], _weights()[key])  # the input is not modified


@pytest.mark.parametrize(
    ("adapter", "message"),
    [
        ({"encoder.layer.9.output.dense.lora_a": np.zeros((2, 6))}, "no counterpart"),
        ({"encoder.layer.0.output.dense.lora_b": np.zeros((4, 2))}, "no counterpart"),
        ({"encoder.layer.0.output.LayerNorm.weight": np.ones(5)}, r"shape \(5,\)"),
        (
            {
                "encoder.layer.0.output.dense.lora_a": np.zeros((2, 6)),
                "encoder.layer.0.output.dense.lora_b": np.zeros((4, 3)),
            },
            r"\(4, 3\) @ \(2, 6\)",
        ),
        (
            {
                "encoder.layer.0.output.dense.lora_a": np.zeros((2, 5)),
                "encoder.layer.0.output.dense.lora_b": np.zeros((4, 2)),
            },
            r"shape \(4, 5\), the encoder needs \(4, 6\)",
        ),
    ],
)
def test_merge_rejects_tensors_the_encoder_does_not_have(adapter: dict, message: str) -> None:
    with pytest.raises(rd.ReaderUnavailable, match=message):
        rd.merge_adapter(_weights(), adapter)


def test_model_file_keeps_the_adapter_and_its_hash(tmp_path: Path) -> None:
    head = rd.CriterionHead((0.0, 1.0), 0.0, 0.5, "or")
    model = rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, {"imminent": head})
    with_adapter = replace(model, adapter="x.adapter.safetensors", adapter_sha256="ab" * 32)
    with_adapter.to_file(tmp_path / "m.json")
    again = rd.ReaderModel.from_file(tmp_path / "m.json")
    assert (again.adapter, again.adapter_sha256) == ("x.adapter.safetensors", "ab" * 32)
    model.to_file(tmp_path / "plain.json")
    assert "adapter" not in (tmp_path / "plain.json").read_text()
    half = replace(model, adapter="x.adapter.safetensors")
    half.to_file(tmp_path / "half.json")
    with pytest.raises(rd.CasekitError, match=r"half\.json: adapter and adapter_sha256"):
        rd.ReaderModel.from_file(tmp_path / "half.json")


def test_an_adapter_that_changed_since_training_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.safetensors"
    rd.write_safetensors(path, {"x": np.zeros(2, np.float32)})
    with pytest.raises(rd.ReaderUnavailable, match=r"a\.safetensors: sha256 .* is not the"):
        rd.adapted_encoder(path, "0" * 64)
    with pytest.raises(rd.ReaderUnavailable, match="sha256 missing"):
        rd.adapted_encoder(tmp_path / "gone.safetensors", "0" * 64)


@needs_encoder
def test_bundled_adapters_match_their_readers() -> None:
    """Every shipped reader with an adapter loads it, hash checked, and it changes the encoder."""
    adapted = 0
    for rubric in rd.bundled_readers():
        reader = rd.load_reader(rubric)
        if reader.model.adapter is None:
            continue
        adapted += 1
        assert (rd.READERS_DIR / reader.model.adapter).is_file()
        moved = np.abs(reader.encoder.encode(SENTENCES) - rd.shared_encoder().encode(SENTENCES))
        assert 0.01 < moved.max() < 1.0
    assert adapted >= 1


# --------------------------------------------------------------------------- PyTorch


@needs_encoder
@needs_torch
def test_torch_encoder_is_the_numpy_encoder_before_and_after_adapting() -> None:
    from casekit.finetune import _batch, _torch_encoder

    enc = rd.shared_encoder()
    model = _torch_encoder(rd.read_safetensors(enc.folder / "model.safetensors"), 4, 8.0)
    batch = _batch([enc.tokenizer.encode(s) for s in SENTENCES])
    with torch.no_grad():
        np.testing.assert_allclose(model(*batch).numpy(), enc.encode(SENTENCES), atol=1e-5)
        gen = torch.Generator().manual_seed(1)
        for name, p in model.lora.items():
            if name.endswith("b"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
        for p in model.norms.values():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
        adapted = model(*batch).numpy()
    assert np.abs(adapted - enc.encode(SENTENCES)).max() > 0.05  # the adapter does something
    merged = rd.Encoder(adapter=model.adapter())
    np.testing.assert_allclose(merged.encode(SENTENCES), adapted, atol=1e-5)


@needs_encoder
@needs_torch
def test_torch_encoder_reads_in_context_as_the_numpy_encoder_does() -> None:
    from casekit.finetune import _torch_encoder

    enc = rd.shared_encoder()
    model = _torch_encoder(rd.read_safetensors(enc.folder / "model.safetensors"), 4, 8.0)
    tok = enc.tokenizer
    cases = [SENTENCES, ["One sentence."], ["a long aside " * 40, *SENTENCES, "x " * 300]]
    for case, want in zip(cases, enc.encode_cases(cases, context=True), strict=True):
        windows = rd.context_windows([tok.pieces(s) or [tok.unk] for s in case], tok.cls, tok.sep)
        with torch.no_grad():
            np.testing.assert_allclose(model.in_context(windows).numpy(), want, atol=1e-5)
    assert len(windows) > 1  # the last case needs several windows


@needs_encoder
@needs_torch
@pytest.mark.parametrize("context", [False, True])
def test_finetuning_learns_a_toy_criterion(context: bool) -> None:
    """Two epochs on six tiny cases lower the loss and give an adapter casekit can load."""
    from casekit.finetune import TrainingCase, finetune_adapter

    enc = rd.shared_encoder()
    pos, neg = "I will hurt him tonight.", "We talked about the weather."
    cases = [
        TrainingCase([pos, neg], np.array([[1], [0]], np.int8)),
        TrainingCase([neg], np.array([[0]], np.int8)),
        TrainingCase(["She will stab her brother.", neg], np.array([[1], [-1]], np.int8)),
    ] * 2
    losses: list[float] = []
    adapter = finetune_adapter(
        cases,
        enc,
        enc.folder / "model.safetensors",
        rank=2,
        epochs=3,
        batch_cases=2,
        lr=5e-3,
        context=context,
        log=lambda line: losses.append(float(line.rsplit(" ", 1)[1])),
    )
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert {k for k in adapter if k.endswith(".lora_a")} == {
        f"encoder.layer.{i}.{name}.lora_a" for i in range(enc.layers) for name in rd.ADAPTED_LINEARS
    }
    tuned = rd.Encoder(adapter=adapter)
    assert np.abs(tuned.encode(SENTENCES) - enc.encode(SENTENCES)).max() > 1e-4


@needs_encoder
@needs_torch
def test_the_seed_sets_the_adapter_and_the_default_is_the_shipped_one() -> None:
    """Same seed, same adapter; another seed, another adapter; no seed means ``SEED``."""
    from casekit.finetune import SEED, TrainingCase, finetune_adapter

    enc = rd.shared_encoder()
    cases = [
        TrainingCase(["I will hurt him tonight.", "Fine."], np.array([[1], [0]], np.int8)),
        TrainingCase(["We talked about the weather."], np.array([[0]], np.int8)),
    ] * 2

    def train(**seed: int) -> dict:
        return finetune_adapter(
            cases, enc, enc.folder / "model.safetensors", rank=2, epochs=1, batch_cases=2, **seed
        )

    default, same, other = train(), train(seed=SEED), train(seed=SEED + 1)
    assert default.keys() == same.keys() == other.keys()
    assert all(np.array_equal(default[k], same[k]) for k in default)
    assert any(not np.allclose(default[k], other[k]) for k in default if k.endswith(".lora_a"))
