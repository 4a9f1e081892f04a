"""Loading response files: layouts, physical line numbers, the exclusion report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casekit import response_tables as rt
from casekit.datasets import make_responses
from casekit.errors import DataFormatError
from casekit.response_tables import actions_frame, read_column_map, read_responses

ROOT = Path(__file__).resolve().parents[1]
RESPONSES = ROOT / "data" / "responses"
ACTIONS = {
    "warn_and_notify": "Warn the victim and notify police",
    "hospitalize": "Hospitalize",
    "assess_and_document": "Assess and document",
    "maintain_confidentiality": "Maintain confidentiality",
}
VIGNETTES = ["V1", "V2", "V3"]


def write(tmp_path: Path, text: str | bytes, name: str = "r.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def reasons(table: rt.ResponseTable) -> list[tuple[int, str]]:
    return [
        (int(r), str(m))
        for r, m in zip(table.excluded["row"], table.excluded["reason"], strict=True)
    ]


# --------------------------------------------------------------------------- long


def test_long_clean_file_keeps_every_row_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "respondent_id,vignette_id,response,confidence,cohort,timestamp\n"
        "s1,V1,warn_and_notify,4,A,2026-10-06T10:00:00\n"
        "\n"
        "s1,V2,Hospitalize,2,A,2026-10-06T10:05:00\n"
        's2,V1,"  WARN the victim   and notify police ",3,B,2026-10-06T10:06:00\n',
    )
    table = read_responses(path, vignette_ids=VIGNETTES, actions=ACTIONS)
    assert table.layout == "long"
    assert table.groups == ("cohort",)
    assert table.excluded.empty
    data = table.data
    assert list(data.columns) == [
        "respondent_id", "vignette_id", "response", "confidence", "timestamp", "cohort", "row",
    ]  # fmt: skip
    assert data["response"].tolist() == ["warn_and_notify", "hospitalize", "warn_and_notify"]
    assert data["row"].tolist() == [2, 4, 5]
    assert data["confidence"].tolist() == [4.0, 2.0, 3.0]
    assert pd.api.types.is_datetime64_any_dtype(data["timestamp"])


def test_every_bad_row_is_reported_with_its_physical_line(tmp_path: Path) -> None:
    text = (
        "# a comment line before the header\n"  # 1
        "respondent_id,vignette_id,response,confidence\n"  # 2
        "s1,V1,warn_and_notify,3\n"  # 3 ok
        's1,V2,"a reason\nspread over\nthree lines",2\n'  # 4-6 unknown response
        "s2,V9,hospitalize,1\n"  # 7 unknown vignette
        "s2,V1,,1\n"  # 8 blank response
        ",V2,hospitalize,1\n"  # 9 blank respondent
        "s1,V1,hospitalize,2\n"  # 10 duplicate of line 3
        "s3,V1,hospitalize,high\n"  # 11 confidence not a number
        "s3,V2,hospitalize,1,extra\n"  # 12 too many fields
        "s3,V3,maintain confidentiality,\n"  # 13 ok, confidence blank -> NaN
    )
    table = read_responses(write(tmp_path, text), vignette_ids=VIGNETTES, actions=ACTIONS)
    got = reasons(table)
    assert got == [
        (4, rt.REASON_UNKNOWN_RESPONSE.format(value="a reason\nspread over\nthree lines")),
        (7, rt.REASON_UNKNOWN_VIGNETTE.format(value="V9")),
        (8, rt.REASON_BLANK.format(column="response")),
        (9, rt.REASON_BLANK.format(column="respondent_id")),
        (10, rt.REASON_DUPLICATE.format(first=3)),
        (11, rt.REASON_NOT_NUMBER.format(value="high")),
        (12, rt.REASON_FIELDS.format(found=5, expected=4)),
    ]
    assert table.data["row"].tolist() == [3, 13]
    assert table.data["confidence"].isna().tolist() == [False, True]
    assert list(table.excluded.columns) == list(rt.EXCLUSION_COLUMNS)


def test_strict_raises_with_file_and_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, "respondent_id,vignette_id,response\ns1,V1,warn_and_notify\ns1,V7,hospitalize\n"
    )
    with pytest.raises(DataFormatError) as info:
        read_responses(path, vignette_ids=VIGNETTES, actions=ACTIONS, strict=True)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.line == 3
    assert problem.id == "s1"
    assert problem.message == rt.REASON_UNKNOWN_VIGNETTE.format(value="V7")
    # Without strict the same file loads and reports.
    assert len(read_responses(path, vignette_ids=VIGNETTES).excluded) == 1


def test_non_utf8_line_is_excluded_not_guessed(tmp_path: Path) -> None:
    raw = (
        b"respondent_id,vignette_id,response\n"
        b"s1,V1,warn_and_notify\n"
        b"s2,V1,h\xe9spitalize\n"  # Latin-1 byte
        b"s3,V1,hospitalize\n"
    )
    table = read_responses(write(tmp_path, raw), actions=ACTIONS)
    assert reasons(table) == [(3, rt.REASON_BAD_BYTES.format(byte=0xE9))]
    assert table.data["respondent_id"].tolist() == ["s1", "s3"]
    assert table.data["row"].tolist() == [2, 4]


def test_quote_inside_unquoted_field_takes_the_exact_path(tmp_path: Path) -> None:
    text = (
        "respondent_id,vignette_id,response,note\n"
        's1,V1,warn_and_notify,he is 6" tall\n'
        's2,V1,hospitalize,"two\nlines"\n'
        "s3,V1,bogus,x\n"
    )
    table = read_responses(write(tmp_path, text), actions=ACTIONS)
    assert table.data["row"].tolist() == [2, 3]
    assert reasons(table) == [(5, rt.REASON_UNKNOWN_RESPONSE.format(value="bogus"))]
    assert table.data["note"].tolist() == ['he is 6" tall', "two\nlines"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", rt.ERR_EMPTY),
        (b"\n  \n", rt.ERR_EMPTY),
        (b"respondent_id,vignette_id,response\n", rt.ERR_NO_ROWS),
        (
            "respondent_id,vignette_id,response\ns1,V1,x\n".encode("utf-16"),
            rt.ERR_ENCODING.format(detail="UTF-16 byte-order mark"),
        ),
        (b"respondent_id,vignette_\xe9d,response\ns1,V1,x\n", rt.ERR_HEADER_BYTES),
        (
            b"respondent_id,,response\ns1,V1,x\n",
            rt.ERR_BLANK_HEADER.format(position=2),
        ),
    ],
)
def test_structural_problems_raise(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataFormatError) as info:
        read_responses(path, layout="long")
    assert info.value.problems[0].file == str(path)
    assert info.value.problems[0].message == message


def test_missing_required_column_names_it_and_the_header_line(tmp_path: Path) -> None:
    path = write(tmp_path, "# note\nrespondent_id,vignette_id,answer\ns1,V1,x\n")
    with pytest.raises(DataFormatError) as info:
        read_responses(path, layout="long")
    (problem,) = info.value.problems
    assert problem.field == "response"
    assert problem.line == 2
    assert problem.message == rt.ERR_MISSING_COLUMN.format(
        column="response", header="respondent_id, vignette_id, answer"
    )


def test_duplicate_header_names_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "respondent_id,V1,V1\ns1,warn_and_notify,hospitalize\n")
    with pytest.raises(DataFormatError) as info:
        read_responses(path, vignette_ids=VIGNETTES)
    assert info.value.problems[0].message == rt.ERR_DUPLICATE_HEADER.format(column="V1", count=2)


def test_unreadable_file_raises(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError) as info:
        read_responses(tmp_path / "missing.csv")
    assert "cannot read the file" in str(info.value)
    with pytest.raises(DataFormatError):
        read_responses(write(tmp_path, "x", "r.json"))


# --------------------------------------------------------------------------- wide


def test_wide_file_melts_and_reports_blank_cells_by_column(tmp_path: Path) -> None:
    text = (
        "respondent_id,profession,V1,V2,V3\n"
        "r1,psychologist,warn_and_notify,hospitalize,\n"
        "r2,counselor,Hospitalize,nonsense,assess_and_document\n"
        "r1,psychologist,hospitalize,hospitalize,hospitalize\n"
    )
    table = read_responses(write(tmp_path, text), vignette_ids=VIGNETTES, actions=ACTIONS)
    assert table.layout == "wide"
    assert table.groups == ("profession",)
    assert len(table.data) == 4
    assert table.data.groupby("respondent_id").size().to_dict() == {"r1": 2, "r2": 2}
    report = table.excluded
    assert report[["row", "column"]].values.tolist() == [
        [2, "V3"],
        [3, "V2"],
        [4, "V1"],
        [4, "V2"],
        [4, "V3"],
    ]
    assert report["reason"].iloc[0] == rt.REASON_BLANK.format(column="response")
    assert report["reason"].iloc[2] == rt.REASON_DUPLICATE.format(first=2)


def test_wide_column_of_responses_with_unknown_id_is_reported(tmp_path: Path) -> None:
    text = "respondent_id,state,V1,V99\nr1,CA,warn_and_notify,hospitalize\n"
    table = read_responses(write(tmp_path, text), vignette_ids=VIGNETTES, actions=ACTIONS)
    assert table.groups == ("state",)
    assert reasons(table) == [(1, rt.REASON_NOT_VIGNETTE_COLUMN.format(column="V99"))]
    assert "V99" not in table.data.columns


def test_wide_without_vignette_ids_says_how_to_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "respondent_id,V1\nr1,warn_and_notify\n")
    with pytest.raises(DataFormatError, match="pass vignette_ids="):
        read_responses(path)
    table = read_responses(path, column_map={"V1": "DTP-001"})
    assert table.data["vignette_id"].tolist() == ["DTP-001"]


def test_label_map_is_case_and_space_insensitive(tmp_path: Path) -> None:
    text = "respondent_id,vignette_id,response\nr1,V1,  warn THE victim and CALL police \n"
    table = read_responses(
        write(tmp_path, text),
        actions=ACTIONS,
        label_map={"Warn the victim and call police": "warn_and_notify"},
    )
    assert table.data["response"].tolist() == ["warn_and_notify"]
    with pytest.raises(ValueError, match="not one of the actions"):
        read_responses(write(tmp_path, text), actions=ACTIONS, label_map={"x": "not_an_action"})


def test_without_actions_responses_are_kept_as_written(tmp_path: Path) -> None:
    text = "respondent_id,vignette_id,response\nr1,V1, 4 \nr2,V1,5\n"
    table = read_responses(write(tmp_path, text))
    assert table.data["response"].tolist() == ["4", "5"]


# --------------------------------------------------------------------------- Qualtrics


def test_bundled_qualtrics_sample_loads_with_its_mapping_file() -> None:
    cases = [c["id"] for c in make_responses.load_cases()]
    mapping = RESPONSES / "sample_qualtrics_mapping.yaml"
    table = read_responses(
        RESPONSES / "sample_qualtrics.csv", vignette_ids=cases, actions=ACTIONS | {
            a: a for a in make_responses.ACTIONS
        }, column_map=mapping,
    )  # fmt: skip
    assert table.layout == "qualtrics"
    assert table.groups == ("profession", "state")
    assert "timestamp" in table.data.columns
    # Line 1 comment, 2 names, 3-8 question text (a line break in each of 5 cells),
    # 9 ImportId; the first respondent (a preview) is on line 10.
    report = table.excluded
    assert report["row"].iloc[0] == 10
    assert report["reason"].iloc[0] == rt.QUALTRICS_NOT_RESPONSES["survey preview"]
    assert set(report["reason"]) == {
        rt.QUALTRICS_NOT_RESPONSES["survey preview"],
        rt.REASON_BLANK.format(column="response"),
        rt.REASON_UNKNOWN_RESPONSE.format(value="Not sure"),
    }
    columns, labels = read_column_map(mapping)
    same = read_responses(
        RESPONSES / "sample_qualtrics.csv",
        vignette_ids=cases,
        actions=make_responses.ACTIONS,
        column_map=columns,
        label_map=labels,
    )
    pd.testing.assert_frame_equal(same.data, table.data)
    assert table.data["respondent_id"].str.startswith("R_").all()


def test_qualtrics_csv_mapping_file_and_forced_layout(tmp_path: Path) -> None:
    mapping = write(tmp_path, "column,vignette_id\nQ1,V1\n", "map.csv")
    assert read_column_map(mapping) == ({"Q1": "V1"}, {})
    plain = write(tmp_path, "ResponseId,Q1\nR_1,warn_and_notify\nR_2,hospitalize\n")
    with pytest.raises(DataFormatError) as info:
        read_responses(plain, layout="qualtrics", column_map=mapping)
    assert info.value.problems[0].line == 3


# --------------------------------------------------------------------------- Excel


def test_excel_long_and_wide(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["respondent_id", "vignette_id", "response", "confidence"])
    sheet.append(["s1", "V1", "warn_and_notify", 4])
    sheet.append([None, None, None, None])
    sheet.append(["s2", "V1", "nope", 3.0])
    book.save(tmp_path / "long.xlsx")
    table = read_responses(tmp_path / "long.xlsx", actions=ACTIONS)
    assert table.data["row"].tolist() == [2]
    assert table.data["confidence"].tolist() == [4.0]
    assert reasons(table) == [(4, rt.REASON_UNKNOWN_RESPONSE.format(value="nope"))]

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "answers"
    sheet.append(["respondent_id", "profession", "V1", "V2"])
    sheet.append([101, "psychiatrist", "hospitalize", "warn_and_notify"])
    book.save(tmp_path / "wide.xlsx")
    table = read_responses(tmp_path / "wide.xlsx", sheet="answers", vignette_ids=VIGNETTES)
    assert table.data["respondent_id"].tolist() == ["101", "101"]
    assert table.data["profession"].tolist() == ["psychiatrist"] * 2


# --------------------------------------------------------------------------- samples, actions


def test_actions_frame_accepts_rubric_like_objects() -> None:
    class Action:
        def __init__(self, id: str, label: str, appropriate: bool) -> None:
            self.id, self.label, self.appropriate = id, label, appropriate

    frame = actions_frame((Action("warn_and_notify", "Warn", True), Action("x", "X", False)))
    assert frame.to_dict("list") == {
        "id": ["warn_and_notify", "x"],
        "label": ["Warn", "X"],
        "appropriate": [True, False],
    }
    assert actions_frame(["a", "b"])["label"].tolist() == ["a", "b"]


def test_bundled_samples_load_and_match_the_generator() -> None:
    cases = make_responses.load_cases()
    ids = [c["id"] for c in cases]
    poll = read_responses(
        RESPONSES / "seminar_poll.csv", vignette_ids=ids, actions=make_responses.ACTIONS
    )
    assert poll.excluded.empty
    assert poll.data["respondent_id"].nunique() == 30
    assert poll.data["vignette_id"].nunique() == 8
    survey = read_responses(
        RESPONSES / "survey_wide.csv", vignette_ids=ids, actions=make_responses.ACTIONS
    )
    assert survey.data["respondent_id"].nunique() >= 300
    assert survey.data["vignette_id"].nunique() >= 16
    assert set(survey.excluded["reason"]) == {rt.REASON_BLANK.format(column="response")}
    # The committed files are exactly what the seeded generator writes.
    assert (RESPONSES / "seminar_poll.csv").read_text() == make_responses.build_poll(cases)
    assert (RESPONSES / "survey_wide.csv").read_text() == make_responses.build_survey(cases)
    assert "SYNTHETIC" in (RESPONSES / "survey_wide.csv").read_text().splitlines()[0]


# --------------------------------------------------------------------------- property


cell = st.one_of(
    st.sampled_from(["warn_and_notify", "hospitalize", "bogus", "", "Hospitalize "]),
    st.text(alphabet='ab ,"\n', min_size=1, max_size=6),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3", ""]),
            st.sampled_from(["V1", "V2", "V9"]),
            cell,
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_nothing_is_dropped_silently(
    tmp_path: Path, rows: list[tuple[str, str, str, bool]]
) -> None:
    """Every written row is either in data or in the report, at its physical line."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["respondent_id", "vignette_id", "response"])
    expected_lines = []
    line = 2
    for respondent, vignette, response, blank_after in rows:
        writer.writerow([respondent, vignette, response])
        expected_lines.append(line)
        line += 1 + response.count("\n")
        if blank_after:
            buf.write("\n")
            line += 1
    path = write(tmp_path, buf.getvalue(), "prop.csv")
    table = read_responses(path, vignette_ids=VIGNETTES, actions=ACTIONS)
    blank_rows = {
        ln
        for ln, (r, v, resp, _) in zip(expected_lines, rows, strict=True)
        if not (r + v + resp).strip()
    }
    kept = set(table.data["row"])
    reported = set(table.excluded["row"].dropna().astype(int))
    assert kept.isdisjoint(reported)
    assert kept | reported == set(expected_lines) - blank_rows


def test_id_column_names_the_respondent_column(tmp_path: Path) -> None:
    long = write(tmp_path, "student,vignette_id,response\nann,V1,hospitalize\n", "long.csv")
    table = read_responses(long, id_column="student", actions=ACTIONS)
    assert table.layout == "long"
    assert table.data["respondent_id"].tolist() == ["ann"]
    wide = write(tmp_path, "email_hash,V1,V2\nab12,hospitalize,warn_and_notify\n", "wide.csv")
    table = read_responses(wide, id_column="email_hash", vignette_ids=VIGNETTES)
    assert table.data["respondent_id"].tolist() == ["ab12", "ab12"]
    with pytest.raises(DataFormatError) as info:
        read_responses(wide, vignette_ids=VIGNETTES)
    assert info.value.problems[0].field == "respondent_id"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings_keep_line_numbers(tmp_path: Path, newline: bytes) -> None:
    lines = [b"respondent_id,vignette_id,response", b"s1,V1,warn_and_notify", b"", b"s2,V1,bogus"]
    path = write(tmp_path, newline.join(lines) + newline)
    table = read_responses(path, actions=ACTIONS)
    assert table.data["row"].tolist() == [2]
    assert table.data["response"].tolist() == ["warn_and_notify"]
    assert reasons(table) == [(4, rt.REASON_UNKNOWN_RESPONSE.format(value="bogus"))]


def test_qualtrics_export_as_downloaded_with_bom_and_no_comment(tmp_path: Path) -> None:
    lines = (RESPONSES / "sample_qualtrics.csv").read_text().splitlines(keepends=True)
    raw = "\ufeff" + "".join(lines[1:])  # Qualtrics writes a UTF-8 byte-order mark
    path = write(tmp_path, raw.encode("utf-8"), "export.csv")
    mapping = RESPONSES / "sample_qualtrics_mapping.yaml"
    table = read_responses(path, actions=make_responses.ACTIONS, column_map=mapping)
    bundled = read_responses(
        RESPONSES / "sample_qualtrics.csv", actions=make_responses.ACTIONS, column_map=mapping
    )
    assert table.layout == "qualtrics"
    assert table.data["row"].tolist() == (bundled.data["row"] - 1).tolist()
    assert table.data.drop(columns="row").equals(bundled.data.drop(columns="row"))
