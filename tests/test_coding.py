"""Second codings (``casekit.coding``) and the bundled ones in ``data/agreement/``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from casekit import coding
from casekit.errors import DataFormatError
from casekit.io import read_vignettes
from casekit.model import Vignette

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"threat_communicated": True, "serious_violence": False, "duty": "not_triggered"}


def _vignettes() -> list[Vignette]:
    return [
        Vignette(id="A1", text="x", labels={"duty_to_protect": dict(LABELS)}),
        Vignette(id="A2", text="y", labels={"duty_to_protect": {**LABELS, "duty": "permitted"}}),
    ]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "second.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_kappa_matches_hand_computation() -> None:
    a = [True, True, True, False, False, False, True, False]
    b = [True, True, False, False, False, True, True, False]
    # observed 6/8; chance 0.5*0.5 + 0.5*0.5 = 0.5 -> kappa 0.5
    assert coding.cohen_kappa(a, b) == pytest.approx(0.5)
    assert coding.cohen_kappa(a, a) == pytest.approx(1.0)
    assert np.isnan(coding.cohen_kappa([True, True], [True, True]))
    three = ["required", "permitted", "not_triggered", "required"]
    assert coding.cohen_kappa(three, three) == pytest.approx(1.0)


def test_read_and_compare_a_coding(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "- id: A1\n  labels: {threat_communicated: true, serious_violence: true,"
        " duty: permitted}\n  note: close call\n"
        "- id: A2\n  labels: {threat_communicated: true, serious_violence: false,"
        " duty: permitted}\n",
    )
    c = coding.read_coding(path, "duty_to_protect", _vignettes())
    assert c.labels["A1"]["serious_violence"] is True
    rows = {r["criterion"]: r for r in coding.agreement_rows(c, _vignettes(), LABELS)}
    assert rows["threat_communicated"]["agree"] == 1.0
    assert rows["serious_violence"] == pytest.approx(
        {"criterion": "serious_violence", "n": 2, "gold": 0, "second": 1, "agree": 0.5,
         "kappa": 0.0, "f1": 0.0}, nan_ok=True
    )  # fmt: skip
    assert rows["duty"]["agree"] == 0.5 and rows["duty"]["n"] == 2


def test_coding_problems_name_record_id_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "- id: A1\n  labels: {threat_communicated: maybe, duty: sometimes, extra: true}\n"
        "  colour: red\n"
        "- id: NOPE\n  labels: {}\n"
        "- id: A1\n  labels: {}\n"
        "- just text\n",
    )
    with pytest.raises(DataFormatError) as err:
        coding.read_coding(path, "duty_to_protect", _vignettes())
    text = str(err.value)
    assert "record 0 (id 'A1'), field 'labels.threat_communicated'" in text
    assert "expected true or false, got 'maybe'" in text
    assert "field 'labels.serious_violence': missing label" in text
    assert "field 'labels.duty': expected one of" in text
    assert "field 'labels.extra'" in text and "field 'colour'" in text
    assert "record 1 (id 'NOPE')" in text and "no vignette with this id" in text
    assert "record 2 (id 'A1')" in text and "coded twice" in text
    assert "record 3" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "file is empty"), (b"a: [", "not valid YAML"), (b"\xff\xfe", "not UTF-8 text"),
     (b"{a: 1}", "expected a YAML list")],
)  # fmt: skip
def test_bad_files_are_reported(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message):
        coding.read_coding(path, "duty_to_protect", _vignettes())


@pytest.mark.parametrize("rubric", ["duty_to_protect", "self_harm"])
def test_bundled_second_codings_cover_their_records(rubric: str) -> None:
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    path = ROOT / "data" / "agreement" / f"{rubric}_second_coder.yaml"
    c = coding.read_coding(path, rubric, vignettes)
    assert len(c.labels) >= 80
    held_out = {v.id for v in vignettes if v.split == "heldout"}
    assert set(c.labels) <= held_out
