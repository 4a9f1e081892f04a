"""`casekit responses FILE --vignettes PATH [--by COLUMN] [--format ...]` (DESIGN §5)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from casekit.cli import main
from casekit.response_tables import ERR_MISSING_COLUMN

ROOT = Path(__file__).resolve().parents[1]
POLL = ROOT / "data" / "responses" / "seminar_poll.csv"
VIGNETTES = ROOT / "data" / "vignettes"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["responses", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_one_object_per_vignette(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, POLL, "--vignettes", VIGNETTES, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    poll = list(csv.DictReader(line for line in POLL.open() if not line.startswith("#")))
    assert [r["vignette_id"] for r in rows] == sorted({p["vignette_id"] for p in poll})
    assert sum(r["n"] for r in rows) == len(poll)
    for row in rows:
        counts = sum(v for k, v in row.items() if k.startswith("n_"))
        assert counts == row["n"]
        assert 0 <= row["rubric_low"] <= row["share_rubric"] <= row["rubric_high"] <= 1


def test_table_prints_agreement_footer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, POLL, "--vignettes", VIGNETTES)
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["vignette_id", "n", "rubric_action"]
    assert "Fleiss' kappa: " in out
    assert "Krippendorff's alpha (nominal): " in out
    assert "respondents: 30" in out


def test_csv_by_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, POLL, "--vignettes", VIGNETTES, "--by", "cohort", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["cohort"] for r in rows} == {"Tuesday", "Thursday"}
    assert all(int(r["n"]) == 15 for r in rows)


def test_exclusions_are_counted_in_the_footer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    extra = tmp_path / "poll.csv"
    extra.write_text(
        POLL.read_text() + "S99,DTP-001,call my lawyer,3,Tuesday,2026-10-06T10:20:00\n"
    )
    code, out, _ = run(capsys, extra, "--vignettes", VIGNETTES)
    assert code == 0
    assert "excluded rows: 1" in out
    assert "1 row(s) excluded" in out
    code, out, _ = run(capsys, extra, "--vignettes", VIGNETTES, "--format", "json")
    assert sum(r["n"] for r in json.loads(out)) == 240


def test_bad_file_exits_1_naming_file_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("respondent_id,vignette_id,answer\ns1,DTP-001,warn_and_notify\n")
    code, out, err = run(capsys, bad, "--vignettes", VIGNETTES)
    assert code == 1
    assert out == ""
    assert str(bad) in err and "line 1" in err
    assert ERR_MISSING_COLUMN.split("{")[0] in err


def test_unknown_group_column_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, POLL, "--vignettes", VIGNETTES, "--by", "profession")
    assert code == 1
    assert "group column 'profession'" in err
