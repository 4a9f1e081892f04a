"""Load survey and seminar-poll responses into one long frame (DESIGN §3).

Four layouts are read: *long* CSV (``respondent_id, vignette_id, response`` plus optional
``confidence``, ``timestamp`` and group columns), *wide* CSV (one column per vignette, the
other columns are respondent attributes), *Qualtrics* CSV exports (three header rows: column
names, question text, ``{"ImportId": ...}``) and Excel workbooks (``.xlsx``, long or wide).

Nothing is dropped silently. Every row that cannot be used (blank cell, unknown vignette,
unknown response, duplicate respondent/vignette pair, undecodable bytes, too many fields…)
is listed in :attr:`ResponseTable.excluded` with its physical line number and the reason;
``strict=True`` turns any exclusion into a :class:`~casekit.errors.DataFormatError`.
Problems with the file as a whole (unreadable, empty, not UTF-8, a required column missing,
blank or repeated column names) always raise.

Line numbers are physical: they count every line of the file, comment lines, the header
rows and line breaks inside quoted fields included, so they match what an editor shows.
They are computed with NumPy over the raw bytes (a newline ends a record when it is outside
quotes), so loading stays vectorised for survey-sized files.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from casekit.errors import DataFormatError, Problem

__all__ = [
    "EXCLUSION_COLUMNS",
    "ResponseTable",
    "actions_frame",
    "read_column_map",
    "read_responses",
]

Layout = Literal["auto", "long", "wide", "qualtrics"]

#: Columns of :attr:`ResponseTable.excluded`.
EXCLUSION_COLUMNS: tuple[str, ...] = (
    "row",
    "respondent_id",
    "vignette_id",
    "column",
    "value",
    "reason",
)
REQUIRED_LONG = ("respondent_id", "vignette_id", "response")
OPTIONAL_LONG = ("confidence", "timestamp")

# Columns every Qualtrics export carries that describe the session, not the respondent.
QUALTRICS_METADATA = frozenset(
    {
        "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
        "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
        "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
        "DistributionChannel", "UserLanguage", "Q_RecaptchaScore", "Q_RelevantIDDuplicate",
    }
)  # fmt: skip
# Qualtrics "Status" values (text and numeric export) that are not real responses.
QUALTRICS_NOT_RESPONSES = {
    "survey preview": "Qualtrics survey preview, not a real response",
    "1": "Qualtrics survey preview, not a real response",
    "survey test": "Qualtrics survey test, not a real response",
    "2": "Qualtrics survey test, not a real response",
    "spam": "Qualtrics flagged this response as spam",
    "8": "Qualtrics flagged this response as spam",
}

# Messages for file-level problems (raised) and row-level exclusions (reported).
ERR_UNREADABLE = "cannot read the file: {error}"
ERR_EMPTY = "the file is empty; expected a header row and at least one response"
ERR_NO_ROWS = "the file has a header but no response rows"
ERR_ENCODING = "the file is not UTF-8 text ({detail}); re-save it as UTF-8 (CSV UTF-8 in Excel)"
ERR_HEADER_BYTES = "the header row holds bytes that are not UTF-8; re-save the file as UTF-8"
ERR_MISSING_COLUMN = "required column {column!r} is missing; the header has: {header}"
ERR_BLANK_HEADER = "column {position} has no name; every column needs a header"
ERR_DUPLICATE_HEADER = "column name {column!r} appears {count} times; names must be unique"
ERR_LAYOUT = "layout must be one of 'auto', 'long', 'wide', 'qualtrics'; got {layout!r}"
ERR_QUALTRICS_HEADER = (
    "this does not look like a Qualtrics export: line 3 should be the "
    '{{"ImportId": ...}} row, found {found!r}'
)
ERR_WIDE_NO_VIGNETTES = (
    "none of the columns is a vignette: pass vignette_ids= (the ids used as column names) "
    "or column_map= (column name -> vignette id); columns are: {header}"
)
ERR_MAPPING_FILE = (
    "mapping file must be YAML (columns: {{column: vignette_id}}, optional labels: "
    "{{label: action_id}}) or a CSV with columns 'column,vignette_id'"
)
ERR_MAPPING_VALUE = (
    "label_map maps {label!r} to {action!r}, which is not one of the actions: {allowed}"
)
ERR_SUFFIX = "unsupported file type {suffix!r}; expected .csv, .txt or .xlsx"
ERR_NO_ID = (
    "no respondent id column {column!r}; pass id_column= naming it. The header has: {header}"
)

REASON_BLANK = "blank {column}"
REASON_UNKNOWN_VIGNETTE = "unknown vignette id {value!r}"
REASON_UNKNOWN_RESPONSE = "response {value!r} is not an action id, action label or label_map entry"
REASON_DUPLICATE = "duplicate (respondent_id, vignette_id) pair: line {first} has it first"
REASON_NOT_NUMBER = "confidence {value!r} is not a number"
REASON_NOT_DATE = "timestamp {value!r} is not a date/time"
REASON_BAD_BYTES = "line holds bytes that are not UTF-8 (first bad byte 0x{byte:02x})"
REASON_FIELDS = "row has {found} fields but the header has {expected}"
REASON_NOT_VIGNETTE_COLUMN = (
    "column {column!r} holds responses but is not a known vignette id; it is not used"
)


@dataclass(frozen=True, eq=False)
class ResponseTable:
    """Responses in long form plus the report of everything that was left out.

    Attributes
    ----------
    data : DataFrame
        One row per (respondent, vignette): ``respondent_id``, ``vignette_id``,
        ``response`` (an action id when actions or a label map were given), then
        ``confidence`` (float) and ``timestamp`` (datetime) when present, then the group
        columns, and ``row``: the physical line (CSV) or sheet row (Excel) it came from.
    excluded : DataFrame
        One row per excluded cell or row, columns :data:`EXCLUSION_COLUMNS`.
    source : str
        The file the table was read from.
    layout : str
        ``"long"``, ``"wide"`` or ``"qualtrics"`` — what was read.
    groups : tuple of str
        The respondent attribute columns carried into ``data`` (profession, state, …).
    """

    data: pd.DataFrame
    excluded: pd.DataFrame
    source: str
    layout: str
    groups: tuple[str, ...] = ()

    def problems(self) -> list[Problem]:
        """The exclusions as :class:`~casekit.errors.Problem` objects (kind ``exclusion``)."""
        return _exclusions_to_problems(self.excluded, self.source)


def actions_frame(actions: Any) -> pd.DataFrame:
    """Normalise a description of the rubric's actions to a frame.

    Parameters
    ----------
    actions : mapping, iterable of str, or DataFrame
        ``Rubric.actions`` (a mapping or sequence of objects with ``id``, ``label``,
        ``appropriate``), a mapping id -> label, a mapping id -> dict, a DataFrame with an
        ``id`` column, or just the action ids.

    Returns
    -------
    DataFrame
        Columns ``id``, ``label`` and ``appropriate`` (bool; ``True`` when unknown), in the
        order given.

    Examples
    --------
    >>> actions_frame({"warn_and_notify": "Warn and notify"}).loc[0, "label"]
    'Warn and notify'
    """
    if isinstance(actions, pd.DataFrame):
        frame = actions.copy()
        if "id" not in frame.columns:
            frame = frame.reset_index().rename(columns={frame.index.name or "index": "id"})
    else:
        rows: list[dict[str, Any]] = []
        items: Iterable[Any]
        items = actions.items() if isinstance(actions, Mapping) else ((None, a) for a in actions)
        for key, value in items:
            if isinstance(value, str) and key is None:
                rows.append({"id": value})
            elif isinstance(value, str):
                rows.append({"id": key, "label": value})
            elif isinstance(value, Mapping):
                rows.append({"id": key, **dict(value)})
            else:
                rows.append(
                    {  # a rubric Action or anything shaped like one
                        "id": getattr(value, "id", key),
                        "label": getattr(value, "label", None),
                        "appropriate": getattr(value, "appropriate", True),
                    }
                )
        frame = pd.DataFrame(rows)
    if "label" not in frame.columns:
        frame["label"] = frame["id"]
    frame["label"] = frame["label"].fillna(frame["id"]).astype(str)
    if "appropriate" not in frame.columns:
        frame["appropriate"] = True
    frame["appropriate"] = frame["appropriate"].fillna(True).astype(bool)
    frame["id"] = frame["id"].astype(str)
    return frame[["id", "label", "appropriate"]].reset_index(drop=True)


def read_column_map(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """Read a column -> vignette id mapping (and optional label map) from a file.

    Parameters
    ----------
    path : str or Path
        YAML with ``columns: {Q1: V001, ...}`` and optionally ``labels: {"Warn the victim":
        warn_and_notify, ...}`` (a plain top-level mapping is read as ``columns``), or a CSV
        with columns ``column,vignette_id``.

    Returns
    -------
    columns, labels : dict, dict
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError([Problem(name, ERR_UNREADABLE.format(error=exc))]) from exc
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False)
        missing = [c for c in ("column", "vignette_id") if c not in frame.columns]
        if missing:
            header = ", ".join(frame.columns)
            raise DataFormatError(
                [
                    Problem(name, ERR_MISSING_COLUMN.format(column=c, header=header), line=1)
                    for c in missing
                ]
            )
        return dict(
            zip(frame["column"].str.strip(), frame["vignette_id"].str.strip(), strict=True)
        ), {}
    import yaml

    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise DataFormatError([Problem(name, ERR_UNREADABLE.format(error=exc))]) from exc
    if not isinstance(loaded, Mapping):
        raise DataFormatError([Problem(name, ERR_MAPPING_FILE)])
    if "columns" in loaded and isinstance(loaded["columns"], Mapping):
        columns, labels = loaded["columns"], loaded.get("labels") or {}
    else:
        columns, labels = loaded, {}
    if not isinstance(labels, Mapping):
        raise DataFormatError([Problem(name, ERR_MAPPING_FILE, field="labels")])
    return (
        {str(k): str(v) for k, v in columns.items()},
        {str(k): str(v) for k, v in labels.items()},
    )


def read_responses(
    path: str | Path,
    *,
    layout: Layout = "auto",
    vignette_ids: Iterable[str] | None = None,
    actions: Any = None,
    label_map: Mapping[str, str] | None = None,
    column_map: Mapping[str, str] | str | Path | None = None,
    id_column: str | None = None,
    sheet: str | int = 0,
    strict: bool = False,
) -> ResponseTable:
    """Read a response file (long, wide, Qualtrics CSV or Excel) into a long frame.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (UTF-8, optional BOM, optional leading ``#`` comment lines) or ``.xlsx``.
    layout : {"auto", "long", "wide", "qualtrics"}
        ``auto`` reads a file with an ``{"ImportId": ...}`` third line as Qualtrics, a file
        with a ``vignette_id`` column as long, anything else as wide.
    vignette_ids : iterable of str, optional
        The known vignette ids. Long files: other ids are excluded. Wide files: the columns
        with these names are the vignettes.
    actions : optional
        The rubric's actions (see :func:`actions_frame`). Responses are matched to action ids
        and labels ignoring case, surrounding/repeated whitespace, ``_`` and ``-``; anything
        else is excluded as an unknown response. Without ``actions`` and ``label_map`` the
        response text is kept as it is (e.g. ratings).
    label_map : mapping, optional
        Free label -> action id, e.g. ``{"Warn the victim and call police":
        "warn_and_notify"}``; matched the same tolerant way.
    column_map : mapping or path, optional
        Wide/Qualtrics column name -> vignette id, or a mapping file read with
        :func:`read_column_map` (its ``labels`` are used when ``label_map`` is not given).
    id_column : str, optional
        The respondent id column. Default ``respondent_id`` (``ResponseId`` for Qualtrics).
    sheet : str or int
        The Excel worksheet (name or 0-based index).
    strict : bool
        Raise :class:`~casekit.errors.DataFormatError` listing every exclusion instead of
        returning them.

    Returns
    -------
    ResponseTable

    Raises
    ------
    DataFormatError
        For unreadable, empty or non-UTF-8 files, missing required or blank/duplicate
        column names, and (``strict=True``) for any excluded row.
    """
    path = Path(path)
    source = str(path)
    if layout not in ("auto", "long", "wide", "qualtrics"):
        raise ValueError(ERR_LAYOUT.format(layout=layout))
    labels_from_file: dict[str, str] = {}
    if isinstance(column_map, str | Path):
        column_map, labels_from_file = read_column_map(column_map)
    if label_map is None and labels_from_file:
        label_map = labels_from_file

    if path.suffix.lower() == ".xlsx":
        header, cells, lines, header_line, excluded = _read_xlsx(path, sheet)
    elif path.suffix.lower() in (".csv", ".txt", ""):
        header, cells, lines, header_line, excluded = _read_csv(path)
    else:
        raise DataFormatError([Problem(source, ERR_SUFFIX.format(suffix=path.suffix))])

    _check_header(header, source, header_line)
    cells.columns = pd.Index([h.strip() for h in header[: cells.shape[1]]])
    is_qualtrics = _looks_like_qualtrics(cells)
    if layout == "auto":
        if is_qualtrics:
            layout = "qualtrics"
        elif "vignette_id" in {h.strip() for h in header}:
            # A wide file has no vignette_id column; a long file missing another required
            # column should say so rather than be read as wide.
            layout = "long"
        else:
            layout = "wide"
    if layout == "qualtrics":
        if not is_qualtrics:
            found = "" if len(cells) < 2 else ",".join(cells.iloc[1].astype(str))[:60]
            line = int(lines[1]) if len(lines) > 1 else 3
            raise DataFormatError(
                [Problem(source, ERR_QUALTRICS_HEADER.format(found=found), line=line)]
            )
        cells, lines = cells.iloc[2:].reset_index(drop=True), lines[2:]

    if len(cells) == 0 and excluded.empty:
        raise DataFormatError([Problem(source, ERR_NO_ROWS, line=1)])

    known = None if vignette_ids is None else {str(v) for v in vignette_ids}
    lookup, _ = _response_lookup(actions, label_map)
    reports = [excluded]
    if layout == "long":
        long, groups = _from_long(cells, lines, source, id_column, header_line)
    else:
        id_default = "ResponseId" if layout == "qualtrics" else "respondent_id"
        long, groups, more = _from_wide(
            cells, lines, source, id_column or id_default, header_line, known, column_map,
            lookup, qualtrics=layout == "qualtrics",
        )  # fmt: skip
        reports.append(more)
    data, more = _validate(long, known, lookup)
    reports.append(more)
    report = (
        pd.concat([r for r in reports if not r.empty], ignore_index=True)
        if any(not r.empty for r in reports)
        else _empty_report()
    )
    report = report.sort_values(["row", "column"], kind="stable", na_position="first")
    report = report.reset_index(drop=True)
    table = ResponseTable(data=data, excluded=report, source=source, layout=layout, groups=groups)
    if strict and not report.empty:
        raise DataFormatError(table.problems())
    return table


# --------------------------------------------------------------------------- reading files


def _empty_report() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in EXCLUSION_COLUMNS})
    frame["row"] = frame["row"].astype("Int64")
    return frame


def _report(
    rows: Any, respondent: Any, vignette: Any, column: Any, value: Any, reason: Any
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "row": rows,
            "respondent_id": respondent,
            "vignette_id": vignette,
            "column": column,
            "value": value,
            "reason": reason,
        }
    )
    frame["row"] = frame["row"].astype("Int64")
    return frame


def _exclusions_to_problems(report: pd.DataFrame, source: str) -> list[Problem]:
    problems = []
    for rec in report.to_dict("records"):
        problems.append(
            Problem(
                file=source,
                message=str(rec["reason"]),
                id=None if pd.isna(rec["respondent_id"]) else str(rec["respondent_id"]),
                field=None if pd.isna(rec["column"]) else str(rec["column"]),
                line=None if pd.isna(rec["row"]) else int(rec["row"]),
                kind="exclusion",
            )
        )
    return problems


def _record_spans(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Byte spans and first physical line of every CSV record in ``raw``.

    A newline ends a record when an even number of quote characters precede it (RFC 4180
    quoting, where ``""`` escapes a quote). Works on bytes: in UTF-8 no multi-byte sequence
    contains ``"`` or ``\\n``.
    """
    newline = np.flatnonzero(arr == 10)
    quotes_before = np.cumsum(arr == 34)
    ends = newline[quotes_before[newline] % 2 == 0] if newline.size else newline
    if arr.size and (ends.size == 0 or ends[-1] != arr.size - 1):
        ends = np.append(ends, arr.size)  # last record without a trailing newline
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    # Line of each record start = 1 + newlines before it.
    first_line = np.searchsorted(newline, starts) + 1
    return starts, ends.astype(np.int64), first_line


def _read_csv(
    path: Path,
) -> tuple[list[str], pd.DataFrame, np.ndarray, int, pd.DataFrame]:
    """Header, cells (positional columns, all str), physical line per row, header line,
    and the rows excluded while reading (undecodable bytes, too many fields)."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFormatError([Problem(source, ERR_UNREADABLE.format(error=exc))]) from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        detail = "UTF-16 byte-order mark"
        raise DataFormatError([Problem(source, ERR_ENCODING.format(detail=detail), line=1)])
    if b"\x00" in raw[:4096]:
        detail = "NUL bytes, perhaps UTF-16"
        raise DataFormatError([Problem(source, ERR_ENCODING.format(detail=detail), line=1)])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\r" in raw and b"\n" not in raw:
        raw = raw.replace(b"\r", b"\n")  # classic Mac line ends ("CSV (Macintosh)" in Excel)
    if not raw.strip():
        raise DataFormatError([Problem(source, ERR_EMPTY)])

    arr = np.frombuffer(raw, dtype=np.uint8)
    starts, ends, first_line = _record_spans(arr)
    visible = np.concatenate([[0], np.cumsum(~np.isin(arr, (9, 10, 13, 32)))])
    non_blank = visible[np.minimum(ends, arr.size)] - visible[starts] > 0
    # Leading '#' lines are comments (e.g. the SYNTHETIC label of the bundled samples).
    is_comment = arr[np.minimum(starts, arr.size - 1)] == ord("#")
    lead = np.flatnonzero(non_blank & ~is_comment)
    if lead.size == 0:
        raise DataFormatError([Problem(source, ERR_EMPTY)])
    header_rec = int(lead[0])
    header_line = int(first_line[header_rec])
    body = raw[starts[header_rec] :]

    # Undecodable bytes: find them (a loop over the bad bytes only) and their lines.
    bad_lines: dict[int, int] = {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        offsets, first_bytes = _bad_utf8_offsets(raw)
        newline = np.flatnonzero(arr == 10)
        for line, byte in zip(
            (np.searchsorted(newline, offsets) + 1).tolist(), first_bytes, strict=True
        ):
            bad_lines.setdefault(line, byte)
        text = body.decode("utf-8", errors="replace")
    header = _raw_header(text)
    if any(line == header_line for line in bad_lines):
        raise DataFormatError([Problem(source, ERR_HEADER_BYTES, line=header_line)])

    if _regular_quoting(arr):
        cells, lines, excluded = _parse_fast(
            arr, text, starts, ends, first_line, non_blank, header_rec, bad_lines
        )
    else:
        cells, lines, excluded = _parse_slow(text, header_line, bad_lines, len(header))
    return header, cells, lines, header_line, excluded


def _regular_quoting(arr: np.ndarray) -> bool:
    """True when every quote sits at a field edge or is doubled (RFC 4180).

    A quote inside an unquoted field (``5" tall``) is legal for the parser but breaks the
    quote-parity line counting, so such files take the slow path.
    """
    quote = np.flatnonzero(arr == 34)
    if quote.size == 0:
        return True
    before = np.where(quote > 0, arr[np.maximum(quote - 1, 0)], 44)
    after = np.where(quote + 1 < arr.size, arr[np.minimum(quote + 1, arr.size - 1)], 44)
    edge_before = np.isin(before, (44, 10, 13, 34))
    edge_after = np.isin(after, (44, 10, 13, 34))
    return bool(np.all(edge_before | edge_after))


def _parse_fast(
    arr: np.ndarray,
    text: str,
    starts: np.ndarray,
    ends: np.ndarray,
    first_line: np.ndarray,
    non_blank: np.ndarray,
    header_rec: int,
    bad_lines: dict[int, int],
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    full_text = text
    records = np.flatnonzero(non_blank)
    records = records[records > header_rec]
    # Fields per record = commas outside quotes + 1.
    comma = np.flatnonzero(arr == 44)
    comma = comma[np.cumsum(arr == 34)[comma] % 2 == 0] if comma.size else comma
    fields = np.bincount(np.searchsorted(ends, comma), minlength=len(starts)) + 1
    n_header = int(fields[header_rec])
    too_many = records[fields[records] > n_header]
    parts = []
    if too_many.size:
        parts.append(
            _report(
                first_line[too_many], None, None, None, None,
                [REASON_FIELDS.format(found=int(fields[r]), expected=n_header) for r in too_many],
            )
        )  # fmt: skip
        # The parser would truncate or skip such rows; cut them out (few; loop over them).
        keep = np.ones(arr.size, dtype=bool)
        for r in too_many.tolist():
            keep[starts[r] : min(int(ends[r]) + 1, arr.size)] = False
        text = (
            arr[starts[header_rec] :][keep[starts[header_rec] :]]
            .tobytes()
            .decode("utf-8", errors="replace")
        )
        records = records[fields[records] <= n_header]
    cells = _parse_text(text)
    if len(cells) != len(records):
        # Line ends the byte scan does not count (e.g. bare "\r"): the slow path is exact.
        return _parse_slow(full_text, int(first_line[header_rec]), bad_lines, n_header)
    lines = first_line[records]
    if bad_lines:
        # A record is bad when any of its physical lines holds a bad byte.
        last_line = first_line[np.minimum(records + 1, len(first_line) - 1)] - 1
        last_line = np.where(records + 1 < len(first_line), last_line, np.iinfo(np.int64).max)
        bad = np.zeros(len(records), dtype=bool)
        first_bad = np.zeros(len(records), dtype=np.int64)
        for line, byte in bad_lines.items():
            hit = (lines <= line) & (line <= last_line) & ~bad
            first_bad[hit] = byte
            bad |= hit
        parts.append(
            _report(
                lines[bad], None, None, None, None,
                [REASON_BAD_BYTES.format(byte=int(b)) for b in first_bad[bad]],
            )
        )  # fmt: skip
        cells = cells.loc[~bad].reset_index(drop=True)
        lines = lines[~bad]
    excluded = pd.concat(parts, ignore_index=True) if parts else _empty_report()
    return cells, np.asarray(lines, dtype=np.int64), excluded


def _parse_text(text: str) -> pd.DataFrame:
    frame = pd.read_csv(
        io.StringIO(text),
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        index_col=False,
    )
    frame.columns = pd.Index(range(frame.shape[1]))
    return frame.fillna("")


def _parse_slow(
    text: str, header_line: int, bad_lines: dict[int, int], n_header: int
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Exact parse with the csv module, for files whose quoting defeats the fast path."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    rows, lines, report = [], [], []
    previous = reader.line_num
    for row in reader:
        first, last = header_line + previous, header_line + reader.line_num - 1
        previous = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        bad = [b for line, b in bad_lines.items() if first <= line <= last]
        if bad:
            report.append((first, REASON_BAD_BYTES.format(byte=bad[0])))
        elif len(row) > n_header:
            report.append((first, REASON_FIELDS.format(found=len(row), expected=n_header)))
        else:
            rows.append(row + [""] * (n_header - len(row)))
            lines.append(first)
    excluded = (
        _report([r[0] for r in report], None, None, None, None, [r[1] for r in report])
        if report
        else _empty_report()
    )
    cells = pd.DataFrame(rows, columns=range(n_header), dtype=object)
    return cells, np.asarray(lines, dtype=np.int64), excluded


def _raw_header(text: str) -> list[str]:
    # The parser renames duplicate ("a.1") and blank ("Unnamed: 3") columns; read the
    # header as written so those can be reported.
    return next(csv.reader(io.StringIO(text)), [])


def _bad_utf8_offsets(raw: bytes) -> tuple[np.ndarray, list[int]]:
    offsets, first = [], []
    pos = 0
    while pos < len(raw):
        try:
            raw[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            offsets.append(pos + exc.start)
            first.append(raw[pos + exc.start])
            pos += exc.end
    return np.asarray(offsets, dtype=np.int64), first


def _read_xlsx(
    path: Path, sheet: str | int
) -> tuple[list[str], pd.DataFrame, np.ndarray, int, pd.DataFrame]:
    source = str(path)
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        ws = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
        rows = list(ws.iter_rows(values_only=True))
        book.close()
    except Exception as exc:  # openpyxl raises many types for a bad workbook
        raise DataFormatError([Problem(source, ERR_UNREADABLE.format(error=exc))]) from exc
    numbered = [
        (i + 1, ["" if v is None else _excel_text(v) for v in row])
        for i, row in enumerate(rows)
        if any(v is not None and str(v).strip() for v in row)
    ]
    if not numbered:
        raise DataFormatError([Problem(source, ERR_EMPTY)])
    header_line, header = numbered[0]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    body = [r[:width] + [""] * (width - len(r[:width])) for _, r in numbered[1:]]
    cells = pd.DataFrame(body, columns=range(width), dtype=object).astype(str)
    lines = np.asarray([n for n, _ in numbered[1:]], dtype=np.int64)
    return header, cells, lines, header_line, _empty_report()


def _excel_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _check_header(header: list[str], source: str, header_line: int) -> None:
    problems = []
    for position, name in enumerate(header, start=1):
        if not name.strip():
            problems.append(
                Problem(source, ERR_BLANK_HEADER.format(position=position), line=header_line)
            )
    counts = pd.Series([h.strip() for h in header]).value_counts()
    for dup, count in counts[counts > 1].to_dict().items():
        if dup:
            problems.append(
                Problem(
                    source,
                    ERR_DUPLICATE_HEADER.format(column=dup, count=count),
                    line=header_line,
                    field=str(dup),
                )
            )
    if problems:
        raise DataFormatError(problems)


def _looks_like_qualtrics(cells: pd.DataFrame) -> bool:
    if len(cells) < 2:
        return False
    third = cells.iloc[1].astype(str)
    return bool(third.str.contains('"ImportId"', regex=False).any()) or bool(
        third.str.startswith('{"ImportId').any()
    )


# --------------------------------------------------------------------------- reshaping


def _require(header: Iterable[str], required: Iterable[str], source: str, line: int) -> None:
    have = list(header)
    missing = [c for c in required if c not in have]
    if missing:
        raise DataFormatError(
            [
                Problem(
                    source,
                    ERR_MISSING_COLUMN.format(column=c, header=", ".join(have)),
                    line=line,
                    field=c,
                )
                for c in missing
            ]
        )


def _from_long(
    cells: pd.DataFrame,
    lines: np.ndarray,
    source: str,
    id_column: str | None,
    header_line: int,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    frame = cells
    if id_column is not None and id_column != "respondent_id":
        _require(frame.columns, [id_column], source, header_line)
        frame = frame.rename(columns={id_column: "respondent_id"})
    _require(frame.columns, REQUIRED_LONG, source, header_line)
    groups = tuple(c for c in frame.columns if c not in REQUIRED_LONG + OPTIONAL_LONG)
    frame = frame.assign(row=lines, column="response")
    return frame, groups


def _from_wide(
    cells: pd.DataFrame,
    lines: np.ndarray,
    source: str,
    id_column: str,
    header_line: int,
    known: set[str] | None,
    column_map: Mapping[str, str] | None,
    lookup: Mapping[str, str] | None,
    *,
    qualtrics: bool,
) -> tuple[pd.DataFrame, tuple[str, ...], pd.DataFrame]:
    """Melt one-column-per-vignette cells to long form (vectorised)."""
    columns = list(cells.columns)
    if id_column not in columns:
        raise DataFormatError(
            [
                Problem(
                    source,
                    ERR_NO_ID.format(column=id_column, header=", ".join(columns)),
                    line=header_line,
                    field=id_column,
                )
            ]
        )
    mapping = {str(k).strip(): str(v).strip() for k, v in (column_map or {}).items()}
    missing_mapped = [c for c in mapping if c not in columns]
    if missing_mapped:
        _require(columns, missing_mapped, source, header_line)
    if mapping:
        vignette_cols = [c for c in columns if c in mapping]
    elif known is not None:
        vignette_cols = [c for c in columns if c in known]
    else:
        vignette_cols = []
    if not vignette_cols:
        raise DataFormatError(
            [
                Problem(
                    source,
                    ERR_WIDE_NO_VIGNETTES.format(header=", ".join(columns)),
                    line=header_line,
                )
            ]
        )
    reports = []
    attribute_cols = [
        c
        for c in columns
        if c not in vignette_cols and c != id_column and not (qualtrics and c in QUALTRICS_METADATA)
    ]
    # A leftover column whose cells are all responses is most likely a vignette with a
    # mistyped or unlisted id: say so rather than keep it as a respondent attribute.
    if lookup:
        for col in list(attribute_cols):
            values = cells[col].map(_normalise_label)
            filled = values[values != ""]
            if len(filled) and filled.isin(lookup.keys()).all():
                attribute_cols.remove(col)
                reports.append(
                    _report(
                        [header_line], None, None, [col], [col],
                        [REASON_NOT_VIGNETTE_COLUMN.format(column=col)],
                    )
                )  # fmt: skip
    rows = cells
    keep_rows = np.ones(len(rows), dtype=bool)
    if qualtrics and "Status" in columns:
        status = rows["Status"].str.strip().str.casefold()
        reasons = status.map(QUALTRICS_NOT_RESPONSES)
        flagged = reasons.notna().to_numpy()
        if flagged.any():
            reports.append(
                _report(
                    lines[flagged], rows.loc[flagged, id_column].to_numpy(), None, "Status",
                    rows.loc[flagged, "Status"].to_numpy(), reasons[flagged].to_numpy(),
                )
            )  # fmt: skip
            keep_rows &= ~flagged
    timestamp_col = None
    if "timestamp" in columns:
        timestamp_col = "timestamp"
    elif qualtrics and "RecordedDate" in columns:
        timestamp_col = "RecordedDate"
    rows = rows.loc[keep_rows]
    row_lines = lines[keep_rows]
    n, k = len(rows), len(vignette_cols)
    vignette_ids = [mapping.get(c, c) for c in vignette_cols]
    long = pd.DataFrame(
        {
            "respondent_id": np.repeat(rows[id_column].to_numpy(dtype=object), k),
            "vignette_id": np.tile(np.asarray(vignette_ids, dtype=object), n),
            "response": rows[vignette_cols].to_numpy(dtype=object).reshape(-1),
            "row": np.repeat(row_lines, k),
            "column": np.tile(np.asarray(vignette_cols, dtype=object), n),
        }
    )
    extra = [c for c in ("confidence",) if c in attribute_cols]
    groups = tuple(c for c in attribute_cols if c not in extra and c != timestamp_col)
    for col in (*extra, *groups):
        long[col] = np.repeat(rows[col].to_numpy(dtype=object), k)
    if timestamp_col is not None:
        long["timestamp"] = np.repeat(rows[timestamp_col].to_numpy(dtype=object), k)
    report = pd.concat(reports, ignore_index=True) if reports else _empty_report()
    return long, groups, report


def _strip(values: pd.Series) -> pd.Series:
    """Strip surrounding whitespace, working on the distinct values only.

    Survey columns repeat a few values many times (ids, labels, groups), so this is much
    faster than a per-element ``str.strip`` over 50,000 rows.
    """
    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=False)
    stripped = np.asarray([u.strip() for u in uniques.astype(str)], dtype=object)
    return pd.Series(stripped[codes], index=values.index, dtype=str)


def _normalise_label(value: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", str(value).strip().casefold())).strip()


def _response_lookup(
    actions: Any, label_map: Mapping[str, str] | None
) -> tuple[dict[str, str] | None, frozenset[str]]:
    """Normalised label -> action id, or None when responses are kept as written."""
    if actions is None and not label_map:
        return None, frozenset()
    lookup: dict[str, str] = {}
    allowed: set[str] = set()
    if actions is not None:
        frame = actions_frame(actions)
        allowed = set(frame["id"])
        for action_id, label in zip(frame["id"], frame["label"], strict=True):
            lookup[_normalise_label(label)] = action_id
            lookup[_normalise_label(action_id)] = action_id
    for label, action_id in (label_map or {}).items():
        if allowed and action_id not in allowed:
            raise ValueError(
                ERR_MAPPING_VALUE.format(label=label, action=action_id, allowed=sorted(allowed))
            )
        lookup[_normalise_label(label)] = action_id
        lookup.setdefault(_normalise_label(action_id), action_id)
    return lookup, frozenset(allowed or set(lookup.values()))


def _validate(
    long: pd.DataFrame,
    known: set[str] | None,
    lookup: Mapping[str, str] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the long frame with pandera (lazy: every failure collected) and split it into
    clean rows and the exclusion report."""
    import pandera.pandas as pa

    frame = long.copy()
    for col in ("respondent_id", "vignette_id", "response"):
        frame[col] = _strip(frame[col])
    if lookup is not None:
        # Map unique values only: survey columns repeat a handful of labels many times.
        codes, uniques = pd.factorize(frame["response"])
        mapped = pd.Series(uniques).map(_normalise_label).map(lookup)
        frame["_action"] = mapped.to_numpy(dtype=object)[codes] if len(uniques) else []
    has_conf = "confidence" in frame.columns
    has_time = "timestamp" in frame.columns
    if has_conf:
        frame["confidence"] = _strip(frame["confidence"])
        conf_num = pd.to_numeric(
            frame["confidence"].where(frame["confidence"] != ""), errors="coerce"
        )
    if has_time:
        frame["timestamp"] = _strip(frame["timestamp"])
        time_val = pd.to_datetime(
            frame["timestamp"].where(frame["timestamp"] != ""), errors="coerce", format="mixed"
        )

    def not_blank(s: pd.Series) -> pd.Series:
        return s != ""

    checks: dict[str, Any] = {
        "respondent_id": pa.Column(str, pa.Check(not_blank, name="blank")),
        "vignette_id": pa.Column(
            str,
            [
                pa.Check(not_blank, name="blank"),
                *(
                    [pa.Check(lambda s: (s == "") | s.isin(known), name="unknown_vignette")]
                    if known is not None
                    else []
                ),
            ],
        ),
        "response": pa.Column(
            str,
            [
                pa.Check(not_blank, name="blank"),
                *(
                    [
                        pa.Check(
                            lambda s: (s == "") | frame.loc[s.index, "_action"].notna(),
                            name="unknown_response",
                        )
                    ]
                    if lookup is not None
                    else []
                ),
            ],
        ),
    }
    if has_conf:
        checks["confidence"] = pa.Column(
            str,
            pa.Check(lambda s: (s == "") | conf_num.loc[s.index].notna(), name="not_number"),
        )
    if has_time:
        checks["timestamp"] = pa.Column(
            str,
            pa.Check(lambda s: (s == "") | time_val.loc[s.index].notna(), name="not_date"),
        )
    schema = pa.DataFrameSchema(
        checks,
        unique=["respondent_id", "vignette_id"],
        report_duplicates="exclude_first",
    )
    failures = None
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    if failures is None or failures.empty:
        bad_index = pd.Index([])
        report = _empty_report()
    else:
        failures = failures.dropna(subset=["index"])
        is_dup = failures["check"] == "multiple_fields_uniqueness"
        # A duplicate pair whose vignette/response cell is also bad is reported once, for
        # the cell; uniqueness is reported once per row, not once per key column.
        dups = failures[is_dup].drop_duplicates("index")
        cells = failures[~is_dup]
        dups = dups[~dups["index"].isin(cells["index"])]
        failures = pd.concat([cells, dups], ignore_index=True)
        idx = failures["index"].astype(int).to_numpy()
        rows = frame.loc[idx]
        check = failures["check"].astype(str).to_numpy()
        column = failures["column"].astype(str).to_numpy()
        value = rows["response"].to_numpy(dtype=object).copy()
        for name in ("respondent_id", "vignette_id", "confidence", "timestamp"):
            if name in frame.columns:
                sel = column == name
                value[sel] = rows[name].to_numpy(dtype=object)[sel]
        reason = np.empty(len(failures), dtype=object)
        for name, template in (
            ("blank", None),
            ("unknown_vignette", REASON_UNKNOWN_VIGNETTE),
            ("unknown_response", REASON_UNKNOWN_RESPONSE),
            ("not_number", REASON_NOT_NUMBER),
            ("not_date", REASON_NOT_DATE),
            ("multiple_fields_uniqueness", None),
        ):
            sel = check == name
            if not sel.any():
                continue
            if name == "blank":
                reason[sel] = [REASON_BLANK.format(column=c) for c in column[sel]]
            elif name == "multiple_fields_uniqueness":
                keys = ["respondent_id", "vignette_id"]
                first = frame.groupby(keys, sort=False)["row"].transform("first")
                reason[sel] = [
                    REASON_DUPLICATE.format(first=f) for f in first.loc[idx[sel]].to_numpy()
                ]
            else:
                reason[sel] = [str(template).format(value=v) for v in value[sel]]
        # For wide files the offending cell is the vignette column, not "response".
        shown_col = np.where(
            np.isin(column, ["response", "multiple_fields_uniqueness"])
            | (check == "multiple_fields_uniqueness"),
            rows["column"].to_numpy(dtype=object),
            column,
        )
        report = _report(
            rows["row"].to_numpy(), rows["respondent_id"].to_numpy(dtype=object),
            rows["vignette_id"].to_numpy(dtype=object), shown_col, value, reason,
        )  # fmt: skip
        bad_index = pd.Index(np.unique(idx))
    clean = frame.drop(index=bad_index)
    if lookup is not None:
        clean["response"] = clean["_action"]
        clean = clean.drop(columns="_action")
    if has_conf:
        clean["confidence"] = conf_num.loc[clean.index].astype(float)
    if has_time:
        clean["timestamp"] = time_val.loc[clean.index]
    ordered = ["respondent_id", "vignette_id", "response"]
    ordered += [c for c in OPTIONAL_LONG if c in clean.columns]
    ordered += [c for c in clean.columns if c not in (*ordered, "row", "column")]
    clean = clean[[*ordered, "row"]].reset_index(drop=True)
    for col in ordered[3:]:
        if col not in OPTIONAL_LONG:
            values = _strip(clean[col])
            clean[col] = values.where(values != "")
    return clean, report
