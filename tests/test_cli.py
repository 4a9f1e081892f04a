"""The command line contract (DESIGN §5): formats, shapes, exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from casekit.cli import main

SET = "data/vignettes/duty_to_protect.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_json_has_the_design_shape(capsys) -> None:
    code, out, _ = run(capsys, "score", SET, "--format", "json", "--rubric", "duty_to_protect")
    assert code == 0
    data = json.loads(out)
    assert len(data) >= 45
    first = data[0]
    assert set(first) == {"id", "jurisdiction", "assessments"}
    a = first["assessments"][0]
    assert {"rubric", "fired", "duty", "action", "rule", "findings"} <= set(a)
    assert a["duty"] in {"required", "permitted", "not_triggered"}
    for f in a["findings"]:
        assert {"criterion", "text", "start", "end", "modifiers"} <= set(f)


def test_score_json_evidence_matches_the_text(capsys) -> None:
    from casekit.io import read_vignettes

    texts = {v.id: v.text for v in read_vignettes(SET)}
    _, out, _ = run(capsys, "score", SET, "--format", "json")
    for record in json.loads(out):
        for a in record["assessments"]:
            for f in a["findings"]:
                if f["start"] >= 0:
                    assert texts[record["id"]][f["start"] : f["end"]] == f["text"]


def test_score_runs_every_bundled_rubric_by_default(capsys) -> None:
    from casekit.rules import bundled_rubrics

    _, out, _ = run(capsys, "score", SET, "--format", "json")
    rubrics = [a["rubric"] for a in json.loads(out)[0]["assessments"]]
    assert rubrics == list(bundled_rubrics())


def test_score_csv_one_row_per_vignette_and_rubric(capsys, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = run(
        capsys, "score", SET, "--format", "csv", "-o", str(target), "--rubric", "duty_to_protect"
    )
    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    from casekit.io import read_vignettes

    assert [r["id"] for r in rows] == [v.id for v in read_vignettes(SET)]
    assert rows[0]["threat_communicated"] in {"True", "False"}


def test_score_table(capsys) -> None:
    code, out, _ = run(capsys, "score", SET, "--rubric", "duty_to_protect")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split()[:6] == ["id", "rubric", "jurisdiction", "duty", "action", "rule"]
    assert len(lines) == 2 + len(json.loads(main_json(capsys)))


def main_json(capsys) -> str:
    main(["score", SET, "--format", "json", "--rubric", "duty_to_protect"])
    return capsys.readouterr().out


def test_score_all_jurisdictions(capsys) -> None:
    code, out, _ = run(
        capsys,
        "score",
        "data/vignettes/heldout.yaml",
        "--jurisdiction",
        "all",
        "--format",
        "json",
        "--rubric",
        "duty_to_protect",
    )
    data = json.loads(out)
    assert code == 0
    from casekit.io import read_vignettes

    n = len(read_vignettes("data/vignettes/heldout.yaml"))
    assert len(data) == n * 52
    assert {d["jurisdiction"] for d in data} >= {"generic", "CA", "TX", "DC"}


def test_invalid_input_exits_1_and_names_file_record_field(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: A1\n  text: fine\n- id: A2\n  jurisdiction: XX\n  text: also fine\n")
    code, _, err = run(capsys, "score", str(bad))
    assert code == 1
    assert "bad.yaml" in err and "A2" in err and "jurisdiction" in err


def test_unknown_rubric_and_jurisdiction_exit_1(capsys) -> None:
    assert run(capsys, "score", SET, "--rubric", "nope")[0] == 1
    code, _, err = run(capsys, "score", SET, "--jurisdiction", "ZZ")
    assert code == 1 and "'ZZ' is not a known code" in err


def test_usage_error_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["score"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["score", SET, "--format", "xml"])
    assert info.value.code == 2


def test_check_ok_and_duplicate(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "check", SET)
    assert code == 0 and out == "" and "ok" in err
    dup = tmp_path / "dup.yaml"
    dup.write_text("- id: A\n  text: one\n- id: A\n  text: two\n")
    code, out, _ = run(capsys, "check", str(dup), "--format", "json")
    problems = json.loads(out)
    assert code == 1
    assert problems[0]["kind"] == "duplicate" and problems[0]["id"] == "A"
    assert problems[0]["record"] == 1


def test_check_flags_identifying_details(capsys, tmp_path: Path) -> None:
    planted = tmp_path / "planted.yaml"
    planted.write_text(
        "- id: P1\n  text: >-\n    Mr. Jonathan Whitfield was seen on March 3, 2024 at his home"
        " on 41 Elm Street. He said he will hurt his brother.\n"
    )
    code, out, _ = run(capsys, "check", str(planted), "--format", "json")
    found = {(p["kind"], p["entity"]) for p in json.loads(out)}
    assert code == 1
    assert {("pii", "NAME"), ("pii", "DATE"), ("pii", "ADDRESS")} <= found
    for p in json.loads(out):
        assert {
            "record",
            "id",
            "kind",
            "field",
            "entity",
            "text",
            "start",
            "end",
            "message",
        } <= set(p)


def test_scrub_writes_a_clean_copy_and_leaves_the_input(capsys, tmp_path: Path) -> None:
    planted = tmp_path / "planted.yaml"
    original = (
        "- id: P1\n  text: >-\n    Mr. Jonathan Whitfield called 617-555-0134 on March 3, 2024"
        " and said he will hurt his brother.\n"
    )
    planted.write_text(original)
    out_path = tmp_path / "clean.yaml"
    code, _, _ = run(capsys, "scrub", str(planted), "-o", str(out_path))
    assert code == 0
    assert planted.read_text() == original
    assert run(capsys, "check", str(out_path))[0] == 0
    assert "[NAME]" in out_path.read_text() and "[PHONE]" in out_path.read_text()
    assert run(capsys, "scrub", str(planted), "-o", str(planted))[0] == 1


def test_console_script_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "casekit.cli", "score", SET, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal
    json.loads(proc.stdout)


def test_python_dash_m_casekit_is_the_cli(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    ok = subprocess.run(
        [sys.executable, "-m", "casekit", "check", SET], capture_output=True, text=True
    )
    bad = subprocess.run(
        [sys.executable, "-m", "casekit", "check", str(empty)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode == 1 and "empty.yaml" in bad.stderr + bad.stdout


def test_strict_loading_refuses_identifying_details(tmp_path: Path) -> None:
    from casekit.errors import AnonymizationError
    from casekit.io import read_vignettes

    planted = tmp_path / "planted.yaml"
    planted.write_text("- id: P1\n  text: Mr. Jonathan Whitfield said he will hurt his brother.\n")
    assert len(read_vignettes(planted)) == 1  # warned about elsewhere, not refused
    with pytest.raises(AnonymizationError) as info:
        read_vignettes(planted, strict=True)
    problem = info.value.problems[0]
    assert (problem.kind, problem.id, problem.field) == ("pii", "P1", "text")
    assert "Whitfield" in str(info.value)
    assert read_vignettes(SET, strict=True)  # the bundled set is anonymized


def test_response_loader_is_reachable_from_io() -> None:
    import casekit.io

    table = casekit.io.read_responses("data/responses/seminar_poll.csv")
    assert len(table.data) > 0
