"""Read and write vignette sets (DESIGN §3): YAML, CSV and JSONL files, or a folder of them.

Every loader validates each record and collects *every* problem in a file (or folder) before
raising a single :class:`~casekit.errors.DataFormatError`; each :class:`~casekit.errors.Problem`
names the file, the line, the record (index and id) and the field. Nothing is dropped
silently: a record either becomes a :class:`~casekit.model.Vignette` or appears in a problem.

Formats
-------
YAML
    A top-level list of records (mappings). Read with PyYAML's safe loader only.
CSV
    One row per record, the field names as the header. ``tags`` and ``options`` are
    ``;``-separated. ``facts`` and ``labels`` are either JSON objects in a ``facts`` /
    ``labels`` cell or flattened columns ``facts.<criterion>``,
    ``labels.<rubric>.<criterion>`` and ``labels.<rubric>.duty``. Blank cells are absent
    values. The writer uses the flattened columns so the set can be edited in a spreadsheet.
JSONL
    One JSON object per line; blank lines are ignored.

Writing is lossless: ``read_vignettes(p)`` after ``write_vignettes(vs, p)`` returns ``vs`` in
every format. Vignettes that could not be read back unchanged are refused before anything is
written.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import gc
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from casekit.errors import AnonymizationError, DataFormatError, Problem
from casekit.model import DIFFICULTIES, DUTIES, JURISDICTION_CODES, SPLITS, Vignette

if TYPE_CHECKING:
    import pandas as pd

    from casekit.response_tables import ResponseTable, read_column_map, read_responses

__all__ = [
    "ResponseTable",
    "check_vignettes",
    "frame_to_vignettes",
    "read_column_map",
    "read_responses",
    "read_vignettes",
    "vignettes_to_frame",
    "write_vignettes",
]

PathLike = str | os.PathLike[str]

#: Record fields in :class:`~casekit.model.Vignette` order (also the DataFrame column order).
FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "jurisdiction",
    "setting",
    "tags",
    "difficulty",
    "source",
    "text",
    "facts",
    "options",
    "answer",
    "labels",
    "split",
)
_FIELD_SET = frozenset(FIELDS)
_REQUIRED = ("id", "text")
_SUFFIXES: Mapping[str, str] = {".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".jsonl": "jsonl"}
_SUPPORTED = ".yaml, .yml, .csv, .jsonl"
_CSV_COLUMNS = (
    "id",
    "title",
    "jurisdiction",
    "setting",
    "difficulty",
    "source",
    "tags",
    "text",
    "options",
    "answer",
    "split",
)
_LIST_SEPARATOR = ";"
_DUTY_KEY = "duty"
_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_BOOL_WORDS: Mapping[str, bool] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}
_FRAME_FILE = "<DataFrame>"
_MISSING: Any = object()

# -- messages (matched by tests/test_io.py) --------------------------------------------------
_MSG_REQUIRED = "is required"
_MSG_BLANK = "must not be empty"
_MSG_TYPE = "must be {expected}, got {got}"
_MSG_UNKNOWN_FIELD = "unknown field; allowed fields are " + ", ".join(FIELDS)
_MSG_DUPLICATE_KEY = "appears more than once in this mapping (first on line {line})"
_MSG_JURISDICTION = "{value!r} is not a known code; expected a US postal code, DC or 'generic'"
_MSG_CHOICE = "{value!r} is not allowed; expected one of {allowed}"
_MSG_SEPARATOR = "{value!r} contains ';', which separates list items in CSV files"
_MSG_ANSWER = "{value!r} is not one of the options ({options})"
_MSG_BOOL = "must be true or false (yes/no and 1/0 are also accepted), got {value!r}"
_MSG_KEY = "{key!r} is not a valid id; use only letters, digits, '_' and '-'"
_MSG_EMPTY_LABELS = "labels for rubric {rubric!r} are empty; give at least one criterion or 'duty'"
_MSG_DUPLICATE_ID = "duplicate id {id!r}; first used by {first}"
_MSG_NO_RECORDS = "contains no vignette records"
_MSG_NOT_A_LIST = "the top level must be a list of vignette records, got {got}"
_MSG_NOT_A_RECORD = "a vignette record must be a mapping of field names to values, got {got}"
_MSG_YAML_SYNTAX = "YAML syntax error: {detail}"
_MSG_JSON_SYNTAX = "invalid JSON: {detail}"
_MSG_JSON_CELL = "is not valid JSON: {detail}"
_MSG_CSV_SYNTAX = "CSV syntax error: {detail}"
_MSG_NOT_UTF8 = "is not valid UTF-8: byte 0x{byte:02x} at offset {offset}; save the file as UTF-8"
_MSG_MISSING_COLUMN = "required column {column!r} is missing"
_MSG_UNKNOWN_COLUMN = (
    "unknown column; allowed columns are "
    + ", ".join(FIELDS)
    + ", facts.<criterion>, labels.<rubric>.<criterion>, labels.<rubric>.duty"
)
_MSG_DUPLICATE_COLUMN = "column {name!r} appears more than once (columns {first} and {second})"
_MSG_UNNAMED_COLUMN = "column {column} has no header but this row has a value in it"
_MSG_ROW_TOO_LONG = "row has {cells} cells but the header has {columns} columns"
_MSG_CONFLICT = "is given both in the {cell!r} JSON cell and in column {column!r}"
_MSG_UNSUPPORTED = "unsupported file type {suffix!r}; supported: " + _SUPPORTED
_MSG_NOT_FOUND = "no such file or directory"
_MSG_UNREADABLE = "cannot be read: {detail}"
_MSG_EMPTY_DIR = "contains no vignette files (" + _SUPPORTED + ")"
_MSG_NOT_A_VIGNETTE = "must be a Vignette, got {got}"
_MSG_UNENCODABLE = "cannot be written as UTF-8: {char!r} at position {offset} is a lone surrogate"
_MSG_NOT_LOSSLESS = "would be read back as {got!r}, not {want!r}"


# -- shared validation ------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


class _Record:
    """Where one record sits, and the problems found in it so far."""

    __slots__ = ("broken", "file", "id", "index", "line", "lines", "pending", "problems")

    def __init__(
        self, file: str, index: int, line: int | None, lines: Mapping[str, int] | None = None
    ) -> None:
        self.file = file
        self.index = index
        self.line = line
        # Dotted field path -> line (YAML only); other formats know just the record's line.
        self.lines = lines
        self.id: str | None = None
        # Problems found before the id was known (while decoding a format): (field, message,
        # line or None for the field's line). Flushed by _validate.
        self.pending: list[tuple[str | None, str, int | None]] = []
        # Set when the record could not be decoded at all; only its pending problems count.
        self.broken = False
        self.problems: list[Problem] = []

    def line_of(self, field: str | None) -> int | None:
        lines = self.lines
        key = field
        while lines and key:
            if key in lines:
                return lines[key]
            cut = max(key.rfind("."), key.rfind("["))
            if cut <= 0:
                break
            key = key[:cut]
        return self.line

    def add(
        self, field: str | None, message: str, kind: str = "schema", line: int | None = None
    ) -> None:
        self.problems.append(
            Problem(
                file=self.file,
                message=message,
                record=self.index,
                id=self.id,
                field=field,
                line=self.line_of(field) if line is None else line,
                kind=kind,
            )
        )


def _check_id(raw: Mapping[Any, Any]) -> tuple[str | None, str | None, str | None]:
    """Return (valid id, id to show in problems, problem message)."""
    value = raw.get("id", _MISSING)
    if value is _MISSING:
        return None, None, _MSG_REQUIRED
    if isinstance(value, str):
        stripped = value.strip()
        return (stripped, stripped, None) if stripped else (None, None, _MSG_BLANK)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), str(value), None
    return None, None, _MSG_TYPE.format(expected="a string", got=_type_name(value))


def _string(rec: _Record, raw: Mapping[Any, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        rec.add(name, _MSG_TYPE.format(expected="a string", got=_type_name(value)))
        return ""
    return value


def _choice(rec: _Record, raw: Mapping[Any, Any], name: str, allowed: Sequence[str]) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        rec.add(name, _MSG_TYPE.format(expected="a string", got=_type_name(value)))
        return None
    normal = value.strip().lower()
    if normal not in allowed:
        rec.add(name, _MSG_CHOICE.format(value=value, allowed=", ".join(allowed)))
        return None
    return normal


def _jurisdiction(rec: _Record, value: Any) -> str:
    if value is None or value == "":
        return "generic"
    if not isinstance(value, str):
        rec.add("jurisdiction", _MSG_TYPE.format(expected="a string", got=_type_name(value)))
        return "generic"
    code = value.strip()
    if code.upper() in JURISDICTION_CODES:
        return code.upper()
    if code.lower() == "generic":
        return "generic"
    rec.add("jurisdiction", _MSG_JURISDICTION.format(value=value))
    return "generic"


def _string_list(rec: _Record, name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        rec.add(name, _MSG_TYPE.format(expected="a list of strings", got=_type_name(value)))
        return ()
    items: list[str] = []
    for j, item in enumerate(value):
        where = f"{name}[{j}]"
        if not isinstance(item, str):
            rec.add(where, _MSG_TYPE.format(expected="a string", got=_type_name(item)))
            continue
        item = item.strip()
        if not item:
            rec.add(where, _MSG_BLANK)
        elif _LIST_SEPARATOR in item:
            rec.add(where, _MSG_SEPARATOR.format(value=item))
        else:
            items.append(item)
    return tuple(items)


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _BOOL_WORDS.get(value.strip().lower())
    return None


@functools.lru_cache(maxsize=4096)
def _is_key(key: str) -> bool:
    # Cached: the same few criterion ids repeat in every record.
    return _KEY_RE.fullmatch(key) is not None


def _valid_key(rec: _Record, where: str, key: Any) -> bool:
    if isinstance(key, str) and _is_key(key):
        return True
    rec.add(where, _MSG_KEY.format(key=key))
    return False


def _bool_mapping(rec: _Record, name: str, value: Any) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        expected = "a mapping of criterion id to true/false"
        rec.add(name, _MSG_TYPE.format(expected=expected, got=_type_name(value)))
        return {}
    out: dict[str, bool] = {}
    for key, flag in value.items():
        where = f"{name}.{key}"
        if not _valid_key(rec, where, key):
            continue
        parsed = _to_bool(flag)
        if parsed is None:
            rec.add(where, _MSG_BOOL.format(value=flag))
        else:
            out[key] = parsed
    return out


def _duty(rec: _Record, where: str, value: Any) -> str | None:
    if not isinstance(value, str):
        rec.add(where, _MSG_TYPE.format(expected="a string", got=_type_name(value)))
        return None
    normal = value.strip().lower()
    if normal not in DUTIES:
        rec.add(where, _MSG_CHOICE.format(value=value, allowed=", ".join(DUTIES)))
        return None
    return normal


def _labels(rec: _Record, value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        expected = "a mapping of rubric id to criterion labels"
        rec.add("labels", _MSG_TYPE.format(expected=expected, got=_type_name(value)))
        return {}
    out: dict[str, dict[str, Any]] = {}
    for rubric, marks in value.items():
        where = f"labels.{rubric}"
        if not _valid_key(rec, where, rubric):
            continue
        if not isinstance(marks, Mapping):
            expected = "a mapping of criterion id to true/false (and optionally 'duty')"
            rec.add(where, _MSG_TYPE.format(expected=expected, got=_type_name(marks)))
            continue
        if not marks:
            rec.add(where, _MSG_EMPTY_LABELS.format(rubric=rubric))
            continue
        inner: dict[str, Any] = {}
        for key, mark in marks.items():
            if key == _DUTY_KEY:
                duty = _duty(rec, f"{where}.{key}", mark)
                if duty is not None:
                    inner[key] = duty
                continue
            if not _valid_key(rec, f"{where}.{key}", key):
                continue
            parsed = _to_bool(mark)
            if parsed is None:
                rec.add(f"{where}.{key}", _MSG_BOOL.format(value=mark))
            else:
                inner[key] = parsed
        out[rubric] = inner
    return out


def _validate(raw: Mapping[Any, Any], rec: _Record) -> Vignette | None:
    """Turn one decoded record into a Vignette, adding every problem found to ``rec``."""
    vid, shown, id_problem = _check_id(raw)
    rec.id = shown
    for field, message, line in rec.pending:
        rec.add(field, message, line=line)
    if rec.broken:
        return None
    if id_problem is not None:
        rec.add("id", id_problem)
    if not _FIELD_SET.issuperset(raw):
        for key in raw:
            if key not in _FIELD_SET:
                rec.add(str(key), _MSG_UNKNOWN_FIELD)

    text = raw.get("text", _MISSING)
    if text is _MISSING:
        rec.add("text", _MSG_REQUIRED)
    elif not isinstance(text, str):
        rec.add("text", _MSG_TYPE.format(expected="a string", got=_type_name(text)))
    elif not text.strip():
        rec.add("text", _MSG_BLANK)

    title = _string(rec, raw, "title")
    setting = _string(rec, raw, "setting")
    source = _string(rec, raw, "source")
    jurisdiction = _jurisdiction(rec, raw.get("jurisdiction"))
    difficulty = _choice(rec, raw, "difficulty", DIFFICULTIES) or ""
    split = _choice(rec, raw, "split", SPLITS)
    tags = _string_list(rec, "tags", raw.get("tags"))
    options = _string_list(rec, "options", raw.get("options"))

    answer = raw.get("answer")
    if answer is not None:
        if not isinstance(answer, str):
            rec.add("answer", _MSG_TYPE.format(expected="a string", got=_type_name(answer)))
            answer = None
        elif not answer.strip():
            rec.add("answer", _MSG_BLANK)
            answer = None
        else:
            answer = answer.strip()
            if options and answer not in options:
                rec.add("answer", _MSG_ANSWER.format(value=answer, options=", ".join(options)))

    facts = _bool_mapping(rec, "facts", raw.get("facts"))
    labels = _labels(rec, raw.get("labels"))

    if rec.problems or vid is None:
        return None
    return Vignette(
        id=vid,
        text=text,
        title=title,
        jurisdiction=jurisdiction,
        setting=setting,
        tags=tags,
        difficulty=difficulty,
        source=source,
        facts=facts,
        options=options,
        answer=answer,
        labels=labels,
        split=split,
    )


# -- decoding files ---------------------------------------------------------------------------

# One decoded record: its raw field values and where it sits (with any decoding problems).
_Raw = tuple[Mapping[Any, Any], _Record]


def _decode(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8", errors="strict"), None
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = data.count(b"\n", 0, offset) + 1
        message = _MSG_NOT_UTF8.format(byte=data[offset], offset=offset)
        return None, Problem(file=file, message=message, line=line)


def _yaml_loader(text: str) -> yaml.SafeLoader:
    # libyaml is ~10x faster; both build values with the safe constructor only.
    cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return cls(text)


def _yaml_error(text: str, file: str, exc: yaml.YAMLError) -> Problem:
    # Re-parse with the pure-Python loader: its messages and marks do not depend on whether
    # libyaml is installed, and they count characters, not bytes.
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            loader.construct_document(root)
    except yaml.YAMLError as pure:
        exc = pure
    finally:
        loader.dispose()
    line: int | None = None
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem:
            detail += f" ({exc.context}"
            if exc.context_mark is not None:
                detail += f" started on line {exc.context_mark.line + 1}"
            detail += ")"
    elif isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        detail = f"character {exc.character!r} is not allowed ({exc.reason})"
    else:
        detail = str(exc)
    return Problem(file=file, message=_MSG_YAML_SYNTAX.format(detail=detail), line=line)


def _yaml_lines(node: yaml.Node, rec: _Record) -> dict[str, int]:
    """Map dotted field paths to lines, noting duplicate keys (PyYAML keeps only the last)."""
    lines = {"": node.start_mark.line + 1}

    def walk(mapping: yaml.MappingNode, prefix: str, depth: int) -> None:
        seen: dict[str, int] = {}
        for key, value in mapping.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            path = prefix + key.value
            line = key.start_mark.line + 1
            if key.value in seen:
                message = _MSG_DUPLICATE_KEY.format(line=seen[key.value])
                rec.pending.append((path, message, line))
                continue
            seen[key.value] = line
            lines[path] = line
            if isinstance(value, yaml.MappingNode) and depth < 2:
                walk(value, path + ".", depth + 1)
            elif isinstance(value, yaml.SequenceNode):
                for j, item in enumerate(value.value):
                    lines[f"{path}[{j}]"] = item.start_mark.line + 1

    if isinstance(node, yaml.MappingNode):
        walk(node, "", 0)
    return lines


def _read_yaml(text: str, file: str) -> tuple[list[_Raw], list[Problem]]:
    loader = _yaml_loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return [], [Problem(file=file, message=_MSG_NO_RECORDS)]
        if not isinstance(root, yaml.SequenceNode):
            got = "a mapping" if isinstance(root, yaml.MappingNode) else "a single value"
            message = _MSG_NOT_A_LIST.format(got=got)
            return [], [Problem(file=file, message=message, line=root.start_mark.line + 1)]
        # Lines (and duplicate keys) come from the node tree before construction, which
        # rewrites merge keys in place.
        recs = []
        for index, node in enumerate(root.value):
            rec = _Record(file, index, node.start_mark.line + 1)
            rec.lines = _yaml_lines(node, rec)
            recs.append(rec)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        return [], [_yaml_error(text, file, exc)]
    finally:
        loader.dispose()
    raws: list[_Raw] = []
    for value, rec in zip(data, recs, strict=True):
        if not isinstance(value, Mapping):
            rec.pending.append((None, _MSG_NOT_A_RECORD.format(got=_type_name(value)), None))
            rec.broken = True
            value = {}
        raws.append((value, rec))
    return raws, []


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        keys = [key for key, _ in pairs]
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"duplicate key {duplicate!r}")
    return out


def _read_jsonl(text: str, file: str) -> tuple[list[_Raw], list[Problem]]:
    raws: list[_Raw] = []
    loads = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys).decode
    # Split on "\n" only: str.splitlines() would also break at U+2028 etc. inside strings.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        rec = _Record(file, len(raws), lineno)
        value: Any
        try:
            value = loads(line)
        except ValueError as exc:
            detail = (
                f"{exc.msg} (column {exc.colno})"
                if isinstance(exc, json.JSONDecodeError)
                else str(exc)
            )
            rec.pending.append((None, _MSG_JSON_SYNTAX.format(detail=detail), None))
            rec.broken = True
            value = {}
        if not isinstance(value, dict):
            rec.pending.append((None, _MSG_NOT_A_RECORD.format(got=_type_name(value)), None))
            rec.broken = True
            value = {}
        raws.append((value, rec))
    return raws, []


def _classify_column(name: str) -> tuple[str, ...] | None:
    """``("field", f)``, ``("facts", c)``, ``("labels", r, c)`` or None if unknown."""
    if name in _FIELD_SET:
        return ("field", name)
    head, _, rest = name.partition(".")
    if head == "facts" and rest:
        return ("facts", rest)
    if head == "labels":
        rubric, _, criterion = rest.partition(".")
        if rubric and criterion:
            return ("labels", rubric, criterion)
    return None


def _json_cell(rec: _Record, name: str, cell: str) -> Any:
    try:
        return json.loads(cell, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as exc:
        rec.pending.append((name, _MSG_JSON_CELL.format(detail=exc), None))
        return _MISSING


def _merge_flat(
    rec: _Record, name: str, cell_value: Any, flat: dict[str, Any], columns: Mapping[str, str]
) -> Any:
    """Combine a JSON ``facts``/``labels`` cell with its flattened columns."""
    if cell_value is _MISSING:
        return flat or _MISSING
    if not flat or not isinstance(cell_value, dict):
        return cell_value
    merged = dict(cell_value)
    for key, value in flat.items():
        if name == "labels" and isinstance(merged.get(key), dict) and isinstance(value, dict):
            inner = dict(merged[key])
            for criterion, mark in value.items():
                if criterion in inner:
                    column = columns[f"{key}.{criterion}"]
                    rec.pending.append(
                        (
                            f"labels.{key}.{criterion}",
                            _MSG_CONFLICT.format(cell=name, column=column),
                            None,
                        )
                    )
                inner[criterion] = mark
            merged[key] = inner
        elif key in merged:
            column = columns.get(key, f"{name}.{key}")
            message = _MSG_CONFLICT.format(cell=name, column=column)
            rec.pending.append((f"{name}.{key}", message, None))
        else:
            merged[key] = value
    return merged


def _read_csv(text: str, file: str) -> tuple[list[_Raw], list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the header
        if header is None:
            return [], [Problem(file=file, message=_MSG_NO_RECORDS)]
        header_line = reader.line_num
        names = [cell.strip() for cell in header]
        kinds: list[tuple[str, ...]] = []
        first_seen: dict[str, int] = {}
        for position, name in enumerate(names, start=1):
            kind: tuple[str, ...] | None = (
                _classify_column(name) if name else ("unnamed", str(position))
            )
            if name in first_seen:
                message = _MSG_DUPLICATE_COLUMN.format(
                    name=name, first=first_seen[name], second=position
                )
                problems.append(Problem(file=file, message=message, field=name, line=header_line))
                kind = ("ignored",)
            elif name:
                first_seen[name] = position
            if kind is None:
                problems.append(
                    Problem(file=file, message=_MSG_UNKNOWN_COLUMN, field=name, line=header_line)
                )
                kind = ("ignored",)
            kinds.append(kind)
        missing = [column for column in _REQUIRED if column not in first_seen]
        for column in missing:
            message = _MSG_MISSING_COLUMN.format(column=column)
            problems.append(Problem(file=file, message=message, field=column, line=header_line))
        if missing:
            # Every row would repeat the same complaint; the column problem covers them all.
            return [], problems
        # Flattened columns are looked up by key when merging with a JSON cell.
        fact_columns = {k[1]: n for k, n in zip(kinds, names, strict=True) if k and k[0] == "facts"}
        label_columns = {
            f"{k[1]}.{k[2]}": n for k, n in zip(kinds, names, strict=True) if k and k[0] == "labels"
        }
        raws: list[_Raw] = []
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            if not "".join(row).strip():
                continue
            rec = _Record(file, len(raws), start)
            if len(row) > len(kinds):
                rec.pending.append(
                    (None, _MSG_ROW_TOO_LONG.format(cells=len(row), columns=len(kinds)), None)
                )
            raw: dict[str, Any] = {}
            facts: dict[str, Any] = {}
            labels: dict[str, dict[str, Any]] = {}
            for cell, kind in zip(row, kinds, strict=False):
                tag = kind[0]
                if tag == "field":
                    name = kind[1]
                    if name in ("tags", "options"):
                        if cell.strip():
                            parts = (part.strip() for part in cell.split(_LIST_SEPARATOR))
                            raw[name] = [part for part in parts if part]
                    elif name in ("facts", "labels"):
                        if cell.strip():
                            raw[name] = _json_cell(rec, name, cell)
                    elif cell or name in _REQUIRED:
                        raw[name] = cell
                elif not cell.strip():
                    continue
                elif tag == "facts":
                    facts[kind[1]] = cell
                elif tag == "labels":
                    labels.setdefault(kind[1], {})[kind[2]] = cell
                elif tag == "unnamed":
                    rec.pending.append((None, _MSG_UNNAMED_COLUMN.format(column=kind[1]), None))
            for name, flat, columns in (
                ("facts", facts, fact_columns),
                ("labels", labels, label_columns),
            ):
                merged = _merge_flat(rec, name, raw.get(name, _MISSING), flat, columns)
                if merged is _MISSING:
                    raw.pop(name, None)
                else:
                    raw[name] = merged
            raws.append((raw, rec))
    except csv.Error as exc:
        detail = _MSG_CSV_SYNTAX.format(detail=exc)
        return [], [*problems, Problem(file=file, message=detail, line=reader.line_num)]
    return raws, problems


_READERS: Mapping[str, Callable[[str, str], tuple[list[_Raw], list[Problem]]]] = {
    "yaml": _read_yaml,
    "csv": _read_csv,
    "jsonl": _read_jsonl,
}


# -- reading ----------------------------------------------------------------------------------


def _read_file(path: Path, file: str, kind: str) -> tuple[list[_Raw], list[Problem]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        detail = exc.strerror or str(exc)
        return [], [Problem(file=file, message=_MSG_UNREADABLE.format(detail=detail))]
    text, problem = _decode(data, file)
    if problem is not None or text is None:
        return [], [problem] if problem else []
    raws, problems = _READERS[kind](text, file)
    if not raws and not problems:
        problems = [Problem(file=file, message=_MSG_NO_RECORDS)]
    return raws, problems


def _files(path: Path, file: str) -> tuple[list[tuple[Path, str, str]], list[Problem]]:
    """The vignette files behind ``path`` as (path, name for messages, format)."""
    if path.is_dir():
        found = [
            (entry, os.path.join(file, entry.name), _SUFFIXES[entry.suffix.lower()])
            for entry in sorted(path.iterdir(), key=lambda p: p.name)
            if entry.suffix.lower() in _SUFFIXES
            and not entry.name.startswith(".")
            and entry.is_file()
        ]
        if not found:
            return [], [Problem(file=file, message=_MSG_EMPTY_DIR)]
        return found, []
    if not path.exists():
        return [], [Problem(file=file, message=_MSG_NOT_FOUND)]
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        message = _MSG_UNSUPPORTED.format(suffix=path.suffix or path.name)
        return [], [Problem(file=file, message=message)]
    return [(path, file, kind)], []


def _collect(
    raws: Iterable[_Raw], problems: list[Problem], seen: dict[str, _Record]
) -> Iterator[Vignette]:
    """Validate records, check ids against ``seen`` and yield the good vignettes."""
    for raw, rec in raws:
        vignette = _validate(raw, rec)
        problems.extend(rec.problems)
        vid = rec.id
        if vid is None:
            continue
        first = seen.get(vid)
        if first is None:
            seen[vid] = rec
            if vignette is not None:
                yield vignette
            continue
        where = f"record {first.index}"
        line = first.line_of("id")
        if line is not None:
            where += f" (line {line})"
        if first.file != rec.file:
            where = f"{first.file}, {where}"
        problems.append(
            Problem(
                file=rec.file,
                message=_MSG_DUPLICATE_ID.format(id=vid, first=where),
                record=rec.index,
                id=vid,
                field="id",
                line=rec.line_of("id"),
                kind="duplicate",
            )
        )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects are built.

    Loading creates only acyclic objects, yet each generation-2 pass rescans all of them;
    pausing made a 10,000-record YAML load about 3x faster.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_vignettes(path: PathLike) -> tuple[list[Vignette], list[Problem]]:
    """Validate a vignette file or folder, returning the good records and every problem.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.yaml``/``.yml``, ``.csv`` or ``.jsonl`` file, or a directory whose files with
        those extensions are read in name order (not recursively; other files, such as a
        README, and hidden files are ignored).

    Returns
    -------
    vignettes : list of Vignette
        The records that passed validation, in file order. A record whose id repeats an
        earlier one is left out (the first keeps the id).
    problems : list of Problem
        Everything wrong, in file order; ``kind`` is ``"schema"`` or ``"duplicate"``.
        File-level problems (unreadable, empty, not a list, syntax error) have
        ``record=None``.

    See Also
    --------
    read_vignettes : the same, raising :class:`~casekit.errors.DataFormatError` on problems.
    """
    file = os.fspath(path)
    files, problems = _files(Path(file), file)
    vignettes: list[Vignette] = []
    seen: dict[str, _Record] = {}
    with _gc_paused():
        for one, name, kind in files:
            raws, file_problems = _read_file(one, name, kind)
            problems.extend(file_problems)
            vignettes.extend(_collect(raws, problems, seen))
    return vignettes, problems


def read_vignettes(path: PathLike, *, strict: bool = False) -> list[Vignette]:
    """Read a vignette set from a YAML, CSV or JSONL file, or a folder of them.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.yaml``/``.yml`` file (a top-level list of records), a ``.csv`` file (one row
        per record), a ``.jsonl`` file (one JSON object per line), or a directory: every
        such file in it is read in name order, not recursively. Ids must be unique across
        the whole folder.
    strict : bool, default False
        The anonymity gate: refuse a set whose text or titles still hold identifying
        details (names, dates, addresses, phone numbers...; see :mod:`casekit.anonymize`),
        raising :class:`~casekit.errors.AnonymizationError` that lists every finding.
        Without it, use ``casekit.anonymize.lint_vignettes`` to warn instead.

    Returns
    -------
    list of Vignette
        In file order. Jurisdiction codes are normalized (``"ca"`` -> ``"CA"``,
        ``"Generic"`` -> ``"generic"``); a missing jurisdiction is ``"generic"``.

    Raises
    ------
    DataFormatError
        Listing every problem in the file or folder, each naming the file, line, record
        (index and id) and field.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cases.yaml"
    >>> _ = path.write_text(
    ...     "- id: V1\\n"
    ...     "  jurisdiction: ca\\n"
    ...     "  text: He said he would hurt his brother tonight.\\n",
    ...     encoding="utf-8",
    ... )
    >>> [case] = read_vignettes(path)
    >>> case.id, case.jurisdiction
    ('V1', 'CA')
    >>> _ = path.write_text("- id: V1\\n  jurisdiction: XX\\n", encoding="utf-8")
    >>> from casekit.errors import DataFormatError
    >>> try:
    ...     read_vignettes(path)
    ... except DataFormatError as error:
    ...     for problem in error.problems:
    ...         print(problem.line, problem.record, problem.field, problem.message)
    1 0 text is required
    2 0 jurisdiction 'XX' is not a known code; expected a US postal code, DC or 'generic'
    """
    vignettes, problems = check_vignettes(path)
    if problems:
        raise DataFormatError(problems)
    if strict:
        from casekit.anonymize import lint_vignettes

        flagged = lint_vignettes(vignettes, file=os.fspath(path))
        if flagged:
            raise AnonymizationError(flagged)
    return vignettes


# -- writing ----------------------------------------------------------------------------------


def _check_writable(vignettes: Sequence[Vignette], file: str) -> list[Problem]:
    """Problems that would stop ``vignettes`` from reading back unchanged."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, vignette in enumerate(vignettes):
        rec = _Record(file, index, None)
        if not isinstance(vignette, Vignette):
            rec.add(None, _MSG_NOT_A_VIGNETTE.format(got=_type_name(vignette)))
            problems.extend(rec.problems)
            continue
        again = _validate(vignette.to_record(), rec)
        if again is not None and again != vignette:
            for name in FIELDS:
                got, want = getattr(again, name), getattr(vignette, name)
                if got != want:
                    rec.add(name, _MSG_NOT_LOSSLESS.format(got=_plain(got), want=_plain(want)))
        if rec.id is not None and vignette.id in seen:
            first = f"record {seen[vignette.id]}"
            rec.add("id", _MSG_DUPLICATE_ID.format(id=vignette.id, first=first), "duplicate")
        seen.setdefault(vignette.id, index)
        problems.extend(rec.problems)
    return problems


def _unencodable(vignettes: Sequence[Vignette], file: str) -> list[Problem]:
    """Problems for strings that UTF-8 cannot encode (lone surrogates)."""

    def strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, Mapping):
            for key, item in value.items():
                yield from strings(key, where)
                yield from strings(item, f"{where}.{key}")
        elif isinstance(value, tuple):
            for j, item in enumerate(value):
                yield from strings(item, f"{where}[{j}]")

    problems = []
    for index, vignette in enumerate(vignettes):
        rec = _Record(file, index, None)
        rec.id = vignette.id.encode("utf-8", "backslashreplace").decode("utf-8")
        for name in FIELDS:
            for where, value in strings(getattr(vignette, name), name):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    char = value[exc.start]
                    rec.add(where, _MSG_UNENCODABLE.format(char=char, offset=exc.start))
        problems.extend(rec.problems)
    return problems


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _represent_str(dumper: yaml.representer.SafeRepresenter, data: str) -> yaml.ScalarNode:
    style: str | None = None
    # YAML reads "\r", NEL, LS and PS inside block or single-quoted scalars back as plain
    # newlines, so those strings go double-quoted (escaped) to stay lossless.
    if any(ch in data for ch in "\r\x85\u2028\u2029"):
        style = '"'
    elif "\n" in data:
        style = "|"
    elif len(data) > _FOLD_AT:
        style = ">"
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


# Longer one-line strings are written as folded blocks (">"), wrapped at the dump width.
_FOLD_AT = 80


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as literal blocks."""


_BlockDumper.add_representer(str, _represent_str)

if hasattr(yaml, "CSafeDumper"):
    # Same safe representer, libyaml's emitter: about 2.5x faster on large sets.
    class _CBlockDumper(yaml.CSafeDumper):
        """CSafeDumper that writes multi-line strings as literal blocks."""

    _CBlockDumper.add_representer(str, _represent_str)
    _YAML_DUMPER: type[yaml.representer.SafeRepresenter] = _CBlockDumper
else:  # pragma: no cover - PyYAML built without libyaml
    _YAML_DUMPER = _BlockDumper


def _dump_yaml(records: list[dict[str, Any]]) -> str:
    return yaml.dump(
        records,
        Dumper=_YAML_DUMPER,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=88,
    )


def _dump_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def _cell_bool(value: bool) -> str:
    return "true" if value else "false"


def _dump_csv(vignettes: Sequence[Vignette]) -> str:
    fact_keys: dict[str, None] = {}
    label_keys: dict[tuple[str, str], None] = {}
    for vignette in vignettes:
        fact_keys.update(dict.fromkeys(vignette.facts))
        for rubric, marks in vignette.labels.items():
            label_keys.update(dict.fromkeys((rubric, key) for key in marks))
    header = [
        *_CSV_COLUMNS,
        *(f"facts.{key}" for key in fact_keys),
        *(f"labels.{rubric}.{key}" for rubric, key in label_keys),
    ]
    out = io.StringIO()
    # "\r\n" (the default) also makes the writer quote cells holding a bare "\r".
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for vignette in vignettes:
        row = [
            vignette.id,
            vignette.title,
            vignette.jurisdiction,
            vignette.setting,
            vignette.difficulty,
            vignette.source,
            _LIST_SEPARATOR.join(vignette.tags),
            vignette.text,
            _LIST_SEPARATOR.join(vignette.options),
            vignette.answer or "",
            vignette.split or "",
        ]
        row.extend(
            _cell_bool(vignette.facts[key]) if key in vignette.facts else "" for key in fact_keys
        )
        for rubric, key in label_keys:
            mark = vignette.labels.get(rubric, {}).get(key)
            row.append("" if mark is None else mark if isinstance(mark, str) else _cell_bool(mark))
        writer.writerow(row)
    return out.getvalue()


def write_vignettes(vignettes: Sequence[Vignette], path: PathLike) -> None:
    """Write vignettes to a YAML, CSV or JSONL file, chosen by the file's extension.

    The output reads back unchanged with :func:`read_vignettes`. YAML is block style, keys
    in :meth:`Vignette.to_record` order, multi-line text as literal blocks (``|``) and long
    one-line text as folded blocks (``>``), written by a subclass of PyYAML's safe dumper
    (libyaml's emitter when available); CSV uses
    ``;``-separated ``tags``/``options`` and flattened ``facts.<criterion>`` and
    ``labels.<rubric>.<criterion>`` columns. Files are UTF-8.

    Parameters
    ----------
    vignettes : sequence of Vignette
        Must have unique ids and values that read back unchanged (e.g. no tag containing
        ``;``, jurisdiction already normalized).
    path : str or os.PathLike
        Destination ending in ``.yaml``, ``.yml``, ``.csv`` or ``.jsonl``; overwritten.

    Raises
    ------
    DataFormatError
        If the extension is not supported, or any vignette would not read back unchanged;
        nothing is written then.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from casekit.model import Vignette
    >>> case = Vignette(id="V1", text="She said: 'I will do it tonight.'", tags=("intro",))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cases.csv"
    >>> write_vignettes([case], path)
    >>> read_vignettes(path) == [case]
    True
    >>> print(path.read_text(encoding="utf-8"), end="")
    id,title,jurisdiction,setting,difficulty,source,tags,text,options,answer,split
    V1,,generic,,,,intro,She said: 'I will do it tonight.',,,
    """
    file = os.fspath(path)
    kind = _SUFFIXES.get(Path(file).suffix.lower())
    if kind is None:
        message = _MSG_UNSUPPORTED.format(suffix=Path(file).suffix or Path(file).name)
        raise DataFormatError([Problem(file=file, message=message)])
    problems = _check_writable(vignettes, file)
    if problems:
        raise DataFormatError(problems)
    try:
        if kind == "csv":
            text = _dump_csv(vignettes)
        elif kind == "jsonl":
            text = _dump_jsonl([v.to_record() for v in vignettes])
        else:
            text = _dump_yaml([v.to_record() for v in vignettes])
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # libyaml's emitter raises it too
        raise DataFormatError(_unencodable(vignettes, file)) from None
    with open(file, "wb") as handle:
        handle.write(data)


# -- DataFrames -------------------------------------------------------------------------------

_LIST_COLUMNS = ("tags", "options")
_OBJECT_COLUMNS = ("tags", "facts", "options", "answer", "labels", "split")


def vignettes_to_frame(vignettes: Iterable[Vignette]) -> pd.DataFrame:
    """One row per vignette, columns in :class:`~casekit.model.Vignette` field order.

    ``tags`` and ``options`` hold lists, ``facts`` and ``labels`` plain dicts, and
    ``answer``/``split`` ``None`` when absent (all object columns).
    """
    import pandas as pd

    columns: dict[str, list[Any]] = {name: [] for name in FIELDS}
    for vignette in vignettes:
        for name in FIELDS:
            value = getattr(vignette, name)
            if name in _LIST_COLUMNS:
                value = list(value)
            elif name in ("facts", "labels"):
                value = _plain(value)
            columns[name].append(value)
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object if name in _OBJECT_COLUMNS else None)
            for name, values in columns.items()
        },
        columns=list(FIELDS),
    )


def _frame_value(value: Any) -> Any:
    """A DataFrame cell as plain Python; missing (None/NaN/NA) becomes _MISSING."""
    if value is None:
        return _MISSING
    if isinstance(value, float) and math.isnan(value):
        return _MISSING
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()  # numpy scalars and arrays
        if isinstance(value, float) and math.isnan(value):
            return _MISSING
    elif type(value).__name__ in ("NAType", "NaTType"):
        return _MISSING
    return value


def frame_to_vignettes(df: pd.DataFrame) -> list[Vignette]:
    """Inverse of :func:`vignettes_to_frame`, with the same validation as files.

    Optional columns may be missing; missing cells (``None``, ``NaN``, ``pd.NA``) are
    absent values. Problems name the file ``"<DataFrame>"`` and the row position as the
    record. An empty frame gives an empty list.

    Raises
    ------
    DataFormatError
        Listing every problem (unknown or missing columns, bad values, duplicate ids).
    """
    problems: list[Problem] = []
    names = [str(column) for column in df.columns]
    for name in names:
        if name not in _FIELD_SET:
            problems.append(Problem(file=_FRAME_FILE, message=_MSG_UNKNOWN_FIELD, field=name))
    for column in _REQUIRED:
        if column not in names:
            message = _MSG_MISSING_COLUMN.format(column=column)
            problems.append(Problem(file=_FRAME_FILE, message=message, field=column))
    if problems:
        raise DataFormatError(problems)
    raws: list[_Raw] = []
    for index, row in enumerate(df.itertuples(index=False, name=None)):
        raw = {}
        for name, cell in zip(names, row, strict=True):
            value = _frame_value(cell)
            if value is not _MISSING:
                raw[name] = value
        raws.append((raw, _Record(_FRAME_FILE, index, None)))
    vignettes = list(_collect(raws, problems, {}))
    if problems:
        raise DataFormatError(problems)
    return vignettes


_RESPONSE_NAMES = ("ResponseTable", "read_column_map", "read_responses")


def __getattr__(name: str) -> Any:
    # Response tables need pandas and pandera; load them only when asked for, so that
    # `import casekit` stays light.
    if name in _RESPONSE_NAMES:
        from casekit import response_tables

        return getattr(response_tables, name)
    raise AttributeError(f"module 'casekit.io' has no attribute {name!r}")
