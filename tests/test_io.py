"""Tests for casekit.io: reading, validating and writing vignette sets."""

from __future__ import annotations

import gc
import json
import math
import tempfile
import time
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casekit.io as cio
from casekit.errors import DataFormatError, Problem
from casekit.io import (
    check_vignettes,
    frame_to_vignettes,
    read_vignettes,
    vignettes_to_frame,
    write_vignettes,
)
from casekit.model import DIFFICULTIES, DUTIES, JURISDICTION_CODES, SPLITS, Vignette

DATA = Path(__file__).parent / "data" / "io"
VALID = DATA / "valid"

EXPECTED_V001 = Vignette(
    id="V001",
    title="The brother",
    jurisdiction="CA",
    setting="outpatient",
    difficulty="intro",
    source="written for casekit tests",
    tags=("threat", "family"),
    text=(
        'The client said, "I\'m going to kill my brother tonight, I swear."\n'
        "He owns a shotgun; it is in his truck.\n"
    ),
    facts={"threat_communicated": True, "imminent": True},
    options=("warn_and_notify", "maintain_confidentiality"),
    answer="warn_and_notify",
    labels={
        "duty_to_protect": {
            "threat_communicated": True,
            "identifiable_victim": True,
            "duty": "required",
        }
    },
    split="tuning",
)
EXPECTED_VALID = [
    EXPECTED_V001,
    Vignette(id="12", text="Plain one-line text, with a comma."),
    Vignette(
        id="V003",
        text='Ünïcödé — "quoted" and; semicolons',
        labels={"duty_to_protect": {"duty": "not_triggered"}},
        split="heldout",
    ),
]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def only(problems: list[Problem], **match: object) -> Problem:
    """The single problem whose attributes equal ``match``."""
    found = [p for p in problems if all(getattr(p, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, problems)
    return found[0]


# -- valid files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cases.yaml", "cases.csv", "cases.jsonl"])
def test_valid_fixture_reads_the_same_in_every_format(name: str) -> None:
    assert read_vignettes(VALID / name) == EXPECTED_VALID


@pytest.mark.parametrize("name", ["cases.yaml", "cases.csv", "cases.jsonl"])
def test_check_returns_records_and_no_problems_for_valid_files(name: str) -> None:
    vignettes, problems = check_vignettes(str(VALID / name))
    assert problems == []
    assert [v.id for v in vignettes] == ["V001", "12", "V003"]


def test_folder_reads_files_in_name_order_and_ignores_other_files() -> None:
    vignettes = read_vignettes(DATA / "folder")
    assert [v.id for v in vignettes] == ["A1", "A2", "B1"]
    # b.csv gives facts as a JSON object in its cell.
    assert dict(vignettes[2].facts) == {"threat_communicated": False}


def test_folder_reports_duplicate_ids_across_files() -> None:
    vignettes, problems = check_vignettes(VALID)
    # cases.csv comes first by name, so it keeps the ids; the other two repeat them.
    assert [v.id for v in vignettes] == ["V001", "12", "V003"]
    assert len(problems) == 6
    assert {p.kind for p in problems} == {"duplicate"}
    problem = only(problems, file=str(VALID / "cases.yaml"), id="V003")
    assert str(problem) == (
        f"{VALID / 'cases.yaml'}, line 28, record 2 (id 'V003'), field 'id': "
        f"duplicate id 'V003'; first used by {VALID / 'cases.csv'}, record 2 (line 6)"
    )


def test_yaml_merge_keys_are_not_mistaken_for_duplicates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "merge.yaml",
        "- &base\n  id: M1\n  text: base text\n  setting: school\n"
        "- <<: *base\n  id: M2\n  setting: inpatient\n",
    )
    assert [(v.id, v.text, v.setting) for v in read_vignettes(path)] == [
        ("M1", "base text", "school"),
        ("M2", "base text", "inpatient"),
    ]


def test_strict_is_accepted_and_does_not_change_the_result() -> None:
    assert read_vignettes(VALID / "cases.yaml", strict=True) == EXPECTED_VALID


# -- per-field validation (tests/data/io/bad_fields.yaml) -------------------------------------

BAD_FIELDS = DATA / "bad_fields.yaml"


@pytest.fixture(scope="module")
def bad_fields() -> tuple[list[Vignette], list[Problem]]:
    return check_vignettes(BAD_FIELDS)


DIFFS = "intro, intermediate, advanced"
OPTIONS = "warn_and_notify, may_disclose"
NOT_ALLOWED = "is not allowed; expected one of"
DUTY_LIST = "required, permitted, not_triggered"

# (record, id, field, line, message)
BAD_FIELD_CASES = [
    (1, "V002", "jurisdiction", 6, cio._MSG_JURISDICTION.format(value="XX")),
    (2, "V003", "text", 8, cio._MSG_BLANK),
    (3, "V004", "colour", 11, cio._MSG_UNKNOWN_FIELD),
    (4, "V005", "tags", 14, cio._MSG_TYPE.format(expected="a list of strings", got="a string")),
    (5, "V006", "difficulty", 17, "'hard' is not allowed; " + f"expected one of {DIFFS}"),
    (5, "V006", "split", 18, "'test' is not allowed; expected one of tuning, heldout"),
    (6, "V007", "answer", 22, "'inform_family' is not one of the options (" + OPTIONS + ")"),
    (7, "V008", "facts.threat_communicated", 26, cio._MSG_BOOL.format(value="maybe")),
    (8, "V009", "labels.duty_to_protect.duty", 32, f"'sometimes' {NOT_ALLOWED} {DUTY_LIST}"),
    (9, None, "id", 33, "must be a string, got a list"),
    (10, None, "id", 35, cio._MSG_REQUIRED),
    (12, "V013", "text", 38, cio._MSG_REQUIRED),
    (13, None, "id", 39, "must be a string, got a boolean"),
]  # fmt: skip


@pytest.mark.parametrize(("record", "id_", "field", "line", "message"), BAD_FIELD_CASES)
def test_each_bad_field_is_reported_with_file_line_record_id_and_field(
    bad_fields: tuple[list[Vignette], list[Problem]],
    record: int,
    id_: str | None,
    field: str,
    line: int,
    message: str,
) -> None:
    _, problems = bad_fields
    problem = only(problems, record=record, field=field)
    assert (problem.file, problem.id, problem.line, problem.kind) == (
        str(BAD_FIELDS),
        id_,
        line,
        "schema",
    )
    assert problem.message == message
    shown_id = f" (id {id_!r})" if id_ else ""
    assert str(problem) == (
        f"{BAD_FIELDS}, line {line}, record {record}{shown_id}, field {field!r}: {message}"
    )


def test_jurisdiction_message_reads_as_documented(
    bad_fields: tuple[list[Vignette], list[Problem]],
) -> None:
    problem = only(bad_fields[1], field="jurisdiction")
    assert str(problem).endswith(
        "line 6, record 1 (id 'V002'), field 'jurisdiction': "
        "'XX' is not a known code; expected a US postal code, DC or 'generic'"
    )


def test_unknown_field_message_lists_the_allowed_fields(
    bad_fields: tuple[list[Vignette], list[Problem]],
) -> None:
    message = only(bad_fields[1], field="colour").message
    assert message.startswith("unknown field; allowed fields are id, title, jurisdiction")
    assert all(name in message for name in cio.FIELDS)


def test_duplicate_id_names_both_records_and_lines(
    bad_fields: tuple[list[Vignette], list[Problem]],
) -> None:
    problem = only(bad_fields[1], kind="duplicate")
    assert (problem.record, problem.id, problem.field, problem.line) == (11, "V001", "id", 36)
    assert problem.message == "duplicate id 'V001'; first used by record 0 (line 2)"


def test_bad_fields_keep_the_valid_record_and_drop_nothing_silently(
    bad_fields: tuple[list[Vignette], list[Problem]],
) -> None:
    vignettes, problems = bad_fields
    assert [v.id for v in vignettes] == ["V001"]
    n_records = len(yaml.safe_load(BAD_FIELDS.read_text(encoding="utf-8")))
    reported = {p.record for p in problems}
    assert reported | {0} == set(range(n_records))
    assert len(problems) == len(BAD_FIELD_CASES) + 1  # + the duplicate


def test_read_raises_once_with_every_problem(
    bad_fields: tuple[list[Vignette], list[Problem]],
) -> None:
    with pytest.raises(DataFormatError) as caught:
        read_vignettes(BAD_FIELDS)
    assert list(caught.value.problems) == bad_fields[1]
    assert str(caught.value).startswith(f"{len(bad_fields[1])} problems found:")


# -- more field rules, on small in-memory files -----------------------------------------------


def yaml_problems(tmp_path: Path, body: str) -> tuple[list[Vignette], list[Problem]]:
    return check_vignettes(write(tmp_path, "v.yaml", body))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ca", "CA"), ("Ny", "NY"), ("dc", "DC"), ("Generic", "generic"), (" tx ", "TX")],
)
def test_jurisdiction_codes_are_normalized(tmp_path: Path, raw: str, expected: str) -> None:
    [vignette] = read_vignettes(
        write(tmp_path, "v.jsonl", json.dumps({"id": "V1", "text": "t", "jurisdiction": raw}))
    )
    assert vignette.jurisdiction == expected


def test_jurisdiction_defaults_to_generic(tmp_path: Path) -> None:
    [vignette] = read_vignettes(write(tmp_path, "v.yaml", "- id: V1\n  text: t\n"))
    assert vignette.jurisdiction == "generic"


def test_integer_ids_become_strings_and_other_types_are_rejected(tmp_path: Path) -> None:
    vignettes, problems = yaml_problems(
        tmp_path,
        "- id: 7\n  text: a\n- id: null\n  text: b\n- id: {x: 1}\n  text: c\n"
        "- id: 1.5\n  text: d\n- id: ''\n  text: e\n",
    )
    assert [v.id for v in vignettes] == ["7"]
    assert [(p.record, p.line, p.message) for p in problems] == [
        (1, 3, "must be a string, got null"),
        (2, 5, "must be a string, got a mapping"),
        (3, 7, "must be a string, got a number"),
        (4, 9, cio._MSG_BLANK),
    ]
    assert all(p.field == "id" for p in problems)


def test_wrong_types_name_the_expected_type(tmp_path: Path) -> None:
    _, problems = yaml_problems(
        tmp_path,
        "- id: V1\n  text: t\n  title: 3\n  setting: [a]\n  options: x\n  answer: 4\n"
        "  facts: [a]\n  labels: yes\n  difficulty: 2\n",
    )
    assert {p.field: p.message for p in problems} == {
        "title": "must be a string, got an integer",
        "setting": "must be a string, got a list",
        "options": "must be a list of strings, got a string",
        "answer": "must be a string, got an integer",
        "facts": "must be a mapping of criterion id to true/false, got a list",
        "labels": "must be a mapping of rubric id to criterion labels, got a boolean",
        "difficulty": "must be a string, got an integer",
    }
    assert [p.line for p in problems] == [3, 4, 9, 5, 6, 7, 8]


def test_list_items_are_checked_one_by_one(tmp_path: Path) -> None:
    _, problems = yaml_problems(
        tmp_path,
        "- id: V1\n  text: t\n  tags:\n    - ok\n    - 5\n    - '  '\n    - 'a;b'\n",
    )
    assert [(p.field, p.line, p.message) for p in problems] == [
        ("tags[1]", 5, "must be a string, got an integer"),
        ("tags[2]", 6, cio._MSG_BLANK),
        ("tags[3]", 7, cio._MSG_SEPARATOR.format(value="a;b")),
    ]


def test_answer_without_options_is_accepted(tmp_path: Path) -> None:
    [vignette] = read_vignettes(
        write(tmp_path, "v.yaml", "- id: V1\n  text: t\n  answer: warn_and_notify\n")
    )
    assert (vignette.answer, vignette.options) == ("warn_and_notify", ())


def test_facts_accept_boolean_words_and_reject_others(tmp_path: Path) -> None:
    lines = [
        {"id": "A", "text": "t", "facts": {"a": "Yes", "b": "0", "c": 1, "d": False, "e": "TRUE"}},
        {"id": "B", "text": "t", "facts": {"a": 2, "b": "y", "c": None, "bad key": True}},
    ]
    path = write(tmp_path, "v.jsonl", "\n".join(json.dumps(r) for r in lines))
    vignettes, problems = check_vignettes(path)
    assert dict(vignettes[0].facts) == {"a": True, "b": False, "c": True, "d": False, "e": True}
    assert [(p.field, p.message) for p in problems] == [
        ("facts.a", cio._MSG_BOOL.format(value=2)),
        ("facts.b", cio._MSG_BOOL.format(value="y")),
        ("facts.c", cio._MSG_BOOL.format(value=None)),
        ("facts.bad key", cio._MSG_KEY.format(key="bad key")),
    ]
    assert all(p.line == 2 and p.record == 1 and p.id == "B" for p in problems)


def test_labels_rules(tmp_path: Path) -> None:
    vignettes, problems = yaml_problems(
        tmp_path,
        "- id: V1\n  text: t\n  labels:\n    dtp:\n      imminent: no\n      duty: Permitted\n"
        "- id: V2\n  text: t\n  labels:\n    dtp: true\n    other: {}\n"
        "    third:\n      duty: 3\n      x: maybe\n",
    )
    assert [dict(v.labels["dtp"]) for v in vignettes] == [{"imminent": False, "duty": "permitted"}]
    assert [(p.field, p.line, p.message) for p in problems] == [
        (
            "labels.dtp",
            10,
            "must be a mapping of criterion id to true/false (and optionally 'duty'), "
            "got a boolean",
        ),
        ("labels.other", 11, cio._MSG_EMPTY_LABELS.format(rubric="other")),
        ("labels.third.duty", 13, "must be a string, got an integer"),
        ("labels.third.x", 14, cio._MSG_BOOL.format(value="maybe")),
    ]


def test_duplicate_yaml_keys_are_reported_at_the_second_key(tmp_path: Path) -> None:
    _, problems = yaml_problems(
        tmp_path, "- id: V1\n  text: first\n  facts:\n    a: true\n    a: false\n  text: second\n"
    )
    assert [(p.field, p.line, p.message) for p in problems] == [
        ("facts.a", 5, cio._MSG_DUPLICATE_KEY.format(line=4)),
        ("text", 6, cio._MSG_DUPLICATE_KEY.format(line=2)),
    ]


def test_record_that_is_not_a_mapping(tmp_path: Path) -> None:
    _, problems = yaml_problems(tmp_path, "- id: V1\n  text: ok\n- just a string\n- [1, 2]\n")
    assert [(p.record, p.line, p.field, p.message) for p in problems] == [
        (1, 3, None, cio._MSG_NOT_A_RECORD.format(got="a string")),
        (2, 4, None, cio._MSG_NOT_A_RECORD.format(got="a list")),
    ]


def test_unsafe_yaml_tags_are_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _, problems = yaml_problems(
        tmp_path,
        f"- id: V1\n  text: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    assert not marker.exists()
    [problem] = problems
    assert problem.line == 2
    assert problem.message.startswith("YAML syntax error: could not determine a constructor")


# -- file-level problems ----------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line() -> None:
    [problem] = check_vignettes(DATA / "bad_syntax.yaml")[1]
    assert (problem.line, problem.record) == (5, None)
    assert problem.message == (
        "YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence started on line 4)"
    )


def test_top_level_must_be_a_list() -> None:
    [problem] = check_vignettes(DATA / "not_a_list.yaml")[1]
    assert str(problem) == (
        f"{DATA / 'not_a_list.yaml'}, line 1: "
        "the top level must be a list of vignette records, got a mapping"
    )


@pytest.mark.parametrize("name", ["comments_only.yaml", "empty.csv"])
def test_empty_files_contain_no_records(name: str) -> None:
    [problem] = check_vignettes(DATA / name)[1]
    assert str(problem) == f"{DATA / name}: {cio._MSG_NO_RECORDS}"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("v.jsonl", "\n  \n"),
        ("v.yaml", "[]\n"),
        ("v.csv", "id,text\n"),
        ("v.csv", "id,text\n,\n\n"),
    ],
)
def test_files_with_no_records(tmp_path: Path, name: str, content: str) -> None:
    [problem] = check_vignettes(write(tmp_path, name, content))[1]
    assert problem.message == cio._MSG_NO_RECORDS


def test_non_utf8_bytes_name_offset_and_line() -> None:
    [problem] = check_vignettes(DATA / "latin1.csv")[1]
    assert (problem.line, problem.record) == (2, None)
    assert problem.message == cio._MSG_NOT_UTF8.format(byte=0xE9, offset=14)
    assert "byte 0xe9 at offset 14" in str(problem)


def test_utf8_bom_is_accepted() -> None:
    [vignette] = read_vignettes(DATA / "bom.csv")
    assert vignette.id == "V1"


def test_non_utf8_after_a_bom_counts_the_bom_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "v.jsonl", b"\xef\xbb\xbf\n\xff\n")
    [problem] = check_vignettes(path)[1]
    assert (problem.line, problem.message) == (2, cio._MSG_NOT_UTF8.format(byte=0xFF, offset=4))


def test_missing_required_column_is_one_problem() -> None:
    [problem] = check_vignettes(DATA / "missing_column.csv")[1]
    assert (problem.field, problem.line, problem.record) == ("text", 1, None)
    assert problem.message == "required column 'text' is missing"


def test_unsupported_extension_lists_the_supported_ones() -> None:
    with pytest.raises(DataFormatError) as caught:
        read_vignettes(DATA / "unsupported.txt")
    assert str(caught.value) == (
        f"{DATA / 'unsupported.txt'}: unsupported file type '.txt'; "
        "supported: .yaml, .yml, .csv, .jsonl"
    )


def test_missing_path_is_a_data_format_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError) as caught:
        read_vignettes(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: {cio._MSG_NOT_FOUND}"


def test_directory_without_vignette_files(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# nothing here\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "hidden.yaml", "- id: V1\n  text: t\n")  # not recursive
    with pytest.raises(DataFormatError) as caught:
        read_vignettes(tmp_path)
    assert str(caught.value) == f"{tmp_path}: {cio._MSG_EMPTY_DIR}"


def test_folder_collects_problems_from_every_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: V1\n  text: ''\n")
    write(tmp_path, "b.jsonl", '{"id": "V1", "text": "x", "split": "x"}\n')
    _, problems = check_vignettes(tmp_path)
    assert [(Path(p.file).name, p.field, p.kind) for p in problems] == [
        ("a.yaml", "text", "schema"),
        ("b.jsonl", "split", "schema"),
        ("b.jsonl", "id", "duplicate"),
    ]


# -- CSV specifics ----------------------------------------------------------------------------

BAD_CELLS = DATA / "bad_cells.csv"


def test_csv_problems_use_the_physical_line_of_each_row() -> None:
    vignettes, problems = check_vignettes(BAD_CELLS)
    assert vignettes == []
    assert [(p.record, p.id, p.field, p.line, p.kind) for p in problems] == [
        (None, None, "colour", 1, "schema"),
        (0, "V1", "facts.imminent", 2, "schema"),
        (1, "V2", "facts", 4, "schema"),  # row 0 spans lines 2-3
        (2, "V3", "labels.duty_to_protect.duty", 5, "schema"),
        (3, "V1", "id", 6, "duplicate"),
    ]
    assert problems[0].message == cio._MSG_UNKNOWN_COLUMN
    assert problems[2].message.startswith("is not valid JSON: Expecting property name")


def test_csv_na_like_strings_stay_strings(tmp_path: Path) -> None:
    [vignette] = read_vignettes(
        write(tmp_path, "v.csv", "id,title,text,setting\nNA,None,nan,N/A\n")
    )
    assert (vignette.id, vignette.title, vignette.text, vignette.setting) == (
        "NA",
        "None",
        "nan",
        "N/A",
    )


def test_csv_lists_and_flattened_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.csv",
        "id,text,tags,options,answer,facts.a,facts.b,labels.r.c,labels.r.duty\n"
        "V1,t, x ; y ;,warn;may,may,no,,1,permitted\n"
        "V2,t,,,,,,,\n",
    )
    first, second = read_vignettes(path)
    assert (first.tags, first.options, first.answer) == (("x", "y"), ("warn", "may"), "may")
    assert dict(first.facts) == {"a": False}  # blank facts.b is absent
    assert dict(first.labels["r"]) == {"c": True, "duty": "permitted"}
    assert second == Vignette(id="V2", text="t")


def test_csv_json_cells_merge_with_flattened_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.csv",
        "id,text,facts,facts.b,labels,labels.r.d\n"
        'V1,t,"{""a"": true}",false,"{""r"": {""c"": true}}",yes\n'
        'V2,t,"{""b"": true}",false,,\n',
    )
    vignettes, problems = check_vignettes(path)
    assert [dict(v.facts) for v in vignettes] == [{"a": True, "b": False}]
    assert dict(vignettes[0].labels["r"]) == {"c": True, "d": True}
    [problem] = problems
    assert (problem.record, problem.field, problem.line) == (1, "facts.b", 3)
    assert problem.message == cio._MSG_CONFLICT.format(cell="facts", column="facts.b")


def test_csv_row_shape_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "v.csv", "id,text,\nV1,t,\nV2,t,oops\nV3,t,,extra\nV4\n")
    vignettes, problems = check_vignettes(path)
    assert [v.id for v in vignettes] == ["V1"]
    assert [(p.record, p.line, p.field, p.message) for p in problems] == [
        (1, 3, None, cio._MSG_UNNAMED_COLUMN.format(column=3)),
        (2, 4, None, cio._MSG_ROW_TOO_LONG.format(cells=4, columns=3)),
        (3, 5, "text", cio._MSG_REQUIRED),
    ]


def test_csv_duplicate_columns(tmp_path: Path) -> None:
    _, problems = check_vignettes(write(tmp_path, "v.csv", "id,text,id\nV1,t,V2\n"))
    assert [(p.field, p.line, p.message) for p in problems] == [
        ("id", 1, cio._MSG_DUPLICATE_COLUMN.format(name="id", first=1, second=3))
    ]


def test_csv_crlf_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "v.csv", 'id,text\r\nV1,"two\r\nlines"\r\nV2,\r\n')
    vignettes, problems = check_vignettes(path)
    assert vignettes[0].text == "two\r\nlines"
    assert [(p.record, p.line, p.field) for p in problems] == [(1, 4, "text")]


def test_csv_reader_errors_become_problems(tmp_path: Path) -> None:
    # The csv module refuses cells over its field size limit (128 KiB by default).
    path = write(tmp_path, "v.csv", "id,text\nV1,ok\nV2," + "x" * 200_000 + "\n")
    [problem] = check_vignettes(path)[1]
    assert (problem.line, problem.record) == (3, None)
    assert problem.message == "CSV syntax error: field larger than field limit (131072)"


# -- JSONL specifics --------------------------------------------------------------------------


def test_jsonl_problems_name_the_line_and_skip_blank_lines() -> None:
    vignettes, problems = check_vignettes(DATA / "bad_lines.jsonl")
    assert [v.id for v in vignettes] == ["J1"]
    assert [(p.record, p.line, p.field, p.message) for p in problems] == [
        (1, 3, None, "invalid JSON: Expecting value (column 22)"),
        (2, 4, None, cio._MSG_NOT_A_RECORD.format(got="a list")),
        (3, 5, None, "invalid JSON: duplicate key 'text'"),
        (4, 6, "facts.threat_communicated", cio._MSG_BOOL.format(value="perhaps")),
    ]


def test_jsonl_keeps_unicode_line_separators_inside_strings(tmp_path: Path) -> None:
    text = "one\u2028two\x85three"
    path = write(
        tmp_path, "v.jsonl", json.dumps({"id": "V1", "text": text}, ensure_ascii=False) + "\n"
    )
    assert read_vignettes(path)[0].text == text


# -- writing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.yaml", "out.yml", "out.csv", "out.jsonl"])
def test_write_then_read_returns_the_same_vignettes(tmp_path: Path, name: str) -> None:
    write_vignettes(EXPECTED_VALID, tmp_path / name)
    assert read_vignettes(tmp_path / name) == EXPECTED_VALID


def test_yaml_output_is_block_style_in_record_order(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    write_vignettes([EXPECTED_V001], path)
    written = path.read_text(encoding="utf-8")
    assert "  text: |\n    The client said," in written  # literal block
    assert "  tags:\n  - threat\n  - family\n" in written  # block list
    assert "!!" not in written and "{" not in written
    [loaded] = yaml.safe_load(written)
    assert list(loaded) == list(EXPECTED_V001.to_record())  # dicts keep the file's key order
    assert loaded == EXPECTED_V001.to_record()


def test_yaml_output_folds_long_one_line_text(tmp_path: Path) -> None:
    long = Vignette(id="L1", text=" ".join(["He said he would hurt her tonight."] * 8))
    path = tmp_path / "out.yaml"
    write_vignettes([long], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[2] == "  text: >-"
    assert len(lines) > 5 and all(len(line) <= 100 for line in lines)
    assert read_vignettes(path) == [long]


def test_csv_output_uses_flattened_columns(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_vignettes(EXPECTED_VALID, path)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [
        *cio._CSV_COLUMNS,
        "facts.threat_communicated",
        "facts.imminent",
        "labels.duty_to_protect.threat_communicated",
        "labels.duty_to_protect.identifiable_victim",
        "labels.duty_to_protect.duty",
    ]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame["tags"]) == ["threat;family", "", ""]
    assert list(frame["facts.threat_communicated"]) == ["true", "", ""]
    assert list(frame["labels.duty_to_protect.duty"]) == ["required", "", "not_triggered"]


@pytest.mark.parametrize(
    ("vignette", "field", "message"),
    [
        (Vignette(id="V1", text="t", tags=("a;b",)), "tags[0]", "'a;b' contains ';'"),
        (Vignette(id="V1", text="t", tags=(" a",)), "tags", "would be read back as ('a',)"),
        (Vignette(id="V1", text="t", jurisdiction="ca"), "jurisdiction", "read back as 'CA'"),
        (Vignette(id="V1", text="t", labels={"r": {}}), "labels.r", "are empty"),
        (Vignette(id="V1", text=" "), "text", cio._MSG_BLANK),
        (Vignette(id="V1", text="t", answer=""), "answer", cio._MSG_BLANK),
    ],
)
def test_write_refuses_vignettes_that_would_not_read_back(
    tmp_path: Path, vignette: Vignette, field: str, message: str
) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(DataFormatError) as caught:
        write_vignettes([vignette], path)
    [problem] = caught.value.problems
    assert (problem.file, problem.record, problem.field) == (str(path), 0, field)
    assert message in problem.message
    assert not path.exists()


def test_write_refuses_duplicate_ids_and_non_vignettes(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    vignette = Vignette(id="V1", text="t")
    with pytest.raises(DataFormatError) as caught:
        write_vignettes([vignette, vignette, {"id": "V2"}], path)  # type: ignore[list-item]
    assert [(p.record, p.kind, p.message) for p in caught.value.problems] == [
        (1, "duplicate", "duplicate id 'V1'; first used by record 0"),
        (2, "schema", cio._MSG_NOT_A_VIGNETTE.format(got="a mapping")),
    ]
    assert not path.exists()


def test_write_refuses_strings_utf8_cannot_encode(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    vignettes = [Vignette(id="V1", text="ok"), Vignette(id="V2", text="a\ud800", tags=("\udfff",))]
    with pytest.raises(DataFormatError) as caught:
        write_vignettes(vignettes, path)
    assert [(p.record, p.id, p.field, p.message) for p in caught.value.problems] == [
        (1, "V2", "tags[0]", cio._MSG_UNENCODABLE.format(char="\udfff", offset=0)),
        (1, "V2", "text", cio._MSG_UNENCODABLE.format(char="\ud800", offset=1)),
    ]
    assert not path.exists()


def test_write_refuses_unsupported_extensions(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"unsupported file type '\.json'"):
        write_vignettes(EXPECTED_VALID, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


BUNDLED = Path(__file__).parents[1] / "data" / "vignettes"


@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".jsonl"])
def test_bundled_vignettes_read_cleanly_and_round_trip(tmp_path: Path, suffix: str) -> None:
    vignettes, problems = check_vignettes(BUNDLED)
    assert problems == []
    assert len(vignettes) > 50
    write_vignettes(vignettes, tmp_path / f"all{suffix}")
    assert read_vignettes(tmp_path / f"all{suffix}") == vignettes


# -- round trip property ----------------------------------------------------------------------

_keys = st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True)
_words = (
    st.text(st.characters(exclude_characters=";", codec="utf-8"), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
_labels = st.dictionaries(
    _keys,
    st.tuples(
        st.dictionaries(_keys.filter(lambda k: k != "duty"), st.booleans(), max_size=3),
        st.none() | st.sampled_from(DUTIES),
    )
    .map(lambda pair: {**pair[0], **({"duty": pair[1]} if pair[1] else {})})
    .filter(bool),
    max_size=2,
)


# Long prose made of pieces that stress YAML folding and CSV quoting.
_PIECES = [" ", "  ", "word", "\t", "é", "\n", "a, b", "-", "#", ": ", "'", '"', "\xa0", "\r\n"]
_prose = st.lists(st.sampled_from(_PIECES), min_size=20, max_size=120).map("".join)


@st.composite
def vignettes(draw: st.DrawFn) -> Vignette:
    options = draw(st.lists(_words, max_size=3))
    answer = draw(st.none() | (st.sampled_from(options) if options else _words))
    return Vignette(
        id=draw(st.text(min_size=1, max_size=12).map(str.strip).filter(bool)),
        text=draw((st.text(min_size=1) | _prose).filter(str.strip)),
        title=draw(st.text(max_size=20)),
        jurisdiction=draw(st.sampled_from(sorted(JURISDICTION_CODES))),
        setting=draw(st.text(max_size=10)),
        tags=tuple(draw(st.lists(_words, max_size=4))),
        difficulty=draw(st.sampled_from(("", *DIFFICULTIES))),
        source=draw(st.text(max_size=10)),
        facts=draw(st.dictionaries(_keys, st.booleans(), max_size=3)),
        options=tuple(options),
        answer=answer,
        labels=draw(_labels),
        split=draw(st.none() | st.sampled_from(SPLITS)),
    )


def _unique_ids(vs: list[Vignette]) -> bool:
    return len({v.id for v in vs}) == len(vs)


_SUFFIX_AND_DUMPER = [
    pytest.param(".csv", None, id="csv"),
    pytest.param(".jsonl", None, id="jsonl"),
    pytest.param(".yaml", cio._BlockDumper, id="yaml-python"),
    pytest.param(".yml", getattr(cio, "_CBlockDumper", cio._BlockDumper), id="yaml-libyaml"),
]


@pytest.mark.parametrize(("suffix", "dumper"), _SUFFIX_AND_DUMPER)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vs=st.lists(vignettes(), min_size=1, max_size=4).filter(_unique_ids))
def test_round_trip_property(suffix: str, dumper: type | None, vs: list[Vignette]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"set{suffix}"
        with mock.patch.object(cio, "_YAML_DUMPER", dumper or cio._YAML_DUMPER):
            write_vignettes(vs, path)
        assert read_vignettes(path) == vs


@settings(max_examples=100, deadline=None)
@given(vs=st.lists(vignettes(), max_size=4).filter(_unique_ids))
def test_frame_round_trip_property(vs: list[Vignette]) -> None:
    assert frame_to_vignettes(vignettes_to_frame(vs)) == vs


# -- DataFrames -------------------------------------------------------------------------------


def test_vignettes_to_frame_columns_and_python_objects() -> None:
    frame = vignettes_to_frame(EXPECTED_VALID)
    assert list(frame.columns) == list(cio.FIELDS)
    assert len(frame) == 3
    first = frame.iloc[0]
    assert first["tags"] == ["threat", "family"]
    assert first["facts"] == {"threat_communicated": True, "imminent": True}
    assert type(first["labels"]["duty_to_protect"]) is dict
    assert frame["answer"].tolist() == ["warn_and_notify", None, None]
    assert frame["split"].tolist() == ["tuning", None, "heldout"]


def test_frame_to_vignettes_allows_missing_optional_columns_and_nan() -> None:
    frame = pd.DataFrame(
        {"id": ["a", "b"], "text": ["one", "two"], "jurisdiction": ["ny", math.nan]}
    )
    assert frame_to_vignettes(frame) == [
        Vignette(id="a", text="one", jurisdiction="NY"),
        Vignette(id="b", text="two"),
    ]


def test_frame_to_vignettes_converts_numpy_values() -> None:
    frame = pd.DataFrame({"id": [7, 8], "text": ["a", "b"]})  # int64 column
    frame["tags"] = pd.Series([pd.array(["x"]).to_numpy(), None], dtype=object)
    first, second = frame_to_vignettes(frame)
    assert (first.id, first.tags, second.id, second.tags) == ("7", ("x",), "8", ())


def test_frame_problems_name_the_frame_and_row() -> None:
    frame = pd.DataFrame(
        {"id": ["a", "a", "c"], "text": ["t", "t", ""], "split": [None, None, "x"]}
    )
    with pytest.raises(DataFormatError) as caught:
        frame_to_vignettes(frame)
    assert [str(p) for p in caught.value.problems] == [
        "<DataFrame>, record 1 (id 'a'), field 'id': duplicate id 'a'; first used by record 0",
        "<DataFrame>, record 2 (id 'c'), field 'text': must not be empty",
        "<DataFrame>, record 2 (id 'c'), field 'split': "
        "'x' is not allowed; expected one of tuning, heldout",
    ]


def test_frame_column_problems() -> None:
    with pytest.raises(DataFormatError) as caught:
        frame_to_vignettes(pd.DataFrame({"text": ["t"], "colour": ["red"]}))
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("colour", cio._MSG_UNKNOWN_FIELD),
        ("id", "required column 'id' is missing"),
    ]


def test_empty_frame_gives_no_vignettes() -> None:
    assert frame_to_vignettes(vignettes_to_frame([])) == []


def test_reading_restores_the_garbage_collector_state(tmp_path: Path) -> None:
    assert gc.isenabled()
    read_vignettes(VALID / "cases.yaml")
    check_vignettes(DATA / "bad_syntax.yaml")
    assert gc.isenabled()
    gc.disable()
    try:
        read_vignettes(VALID / "cases.csv")
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_reading_ten_thousand_records_is_fast(tmp_path: Path, suffix: str) -> None:
    many = [
        Vignette(
            id=f"V{i:05d}",
            text=f'He said, "I will hurt her tonight."\nCase {i}.',
            jurisdiction="CA",
            tags=("threat", "intro"),
            facts={"threat_communicated": True},
            labels={"duty_to_protect": {"imminent": True, "duty": "required"}},
            split="tuning",
        )
        for i in range(10_000)
    ]
    path = tmp_path / f"many{suffix}"
    write_vignettes(many, path)
    start = time.perf_counter()
    got = read_vignettes(path)
    elapsed = time.perf_counter() - start
    assert got == many
    # The target is < 0.5 s; the bound is loose so a busy CI machine does not flake, yet a
    # per-record pandas call or a quadratic step would still blow through it.
    assert elapsed < 3.0
