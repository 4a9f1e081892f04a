"""The ``casekit`` command line (DESIGN §5 — a contract other tools depend on).

::

    casekit score PATH [--rubric ID|FILE ...] [--jurisdiction CODE|all]
                       [--format table|csv|json] [-o FILE]
    casekit check PATH [--format text|json]
    casekit scrub PATH -o OUT
    casekit responses FILE --vignettes PATH [--by COLUMN] [--format table|csv|json]

Exit codes: 0 ok, 1 invalid input (the message names file, record and field), 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import io as _stdio
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casekit.errors import CasekitError, Problem
from casekit.model import JURISDICTION_CODES, US_JURISDICTIONS, Assessment, Vignette

if TYPE_CHECKING:
    from casekit.reader import SecondReader
    from casekit.rules import Rubric

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: Sets at least this large get a progress bar on stderr (when stderr is a terminal).
PROGRESS_THRESHOLD = 2_000
READER_CHUNK = 256  # vignettes whose sentences the second reader encodes in one batch

ERR_JURISDICTION = (
    "--jurisdiction {code!r} is not a known code; expected a US postal code, DC, 'generic' or 'all'"
)


# ----------------------------------------------------------------------------- helpers


def _progress(items: Sequence[Any], label: str) -> Iterable[Any]:
    if len(items) < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="vignette", file=sys.stderr)


def _jurisdictions(option: str | None) -> list[str | None]:
    if option is None:
        return [None]
    if option.lower() == "all":
        return ["generic", *sorted(US_JURISDICTIONS)]
    code = "generic" if option.lower() == "generic" else option.upper()
    if code not in JURISDICTION_CODES:
        raise CasekitError(ERR_JURISDICTION.format(code=option))
    return [code]


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(no rows)\n"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines.append("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        lines.append("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines) + "\n"


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = _stdio.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


# ------------------------------------------------------------------------------ score


def _cmd_score(args: argparse.Namespace) -> int:
    from casekit.io import read_vignettes
    from casekit.rules import load_rubrics
    from casekit.scoring import score_jurisdictions

    vignettes = read_vignettes(args.path)
    rubrics = load_rubrics(args.rubric or None)
    codes = _jurisdictions(args.jurisdiction)
    readers = _readers(rubrics) if args.reader else {}
    results: list[tuple[Vignette, list[Assessment]]] = []
    for i, v in enumerate(_progress(vignettes, "scoring")):
        if readers and i % READER_CHUNK == 0:
            # batch the reader's sentence encoding over the next chunk of vignettes
            for reader in readers.values():
                reader.warm([w.text for w in vignettes[i : i + READER_CHUNK]])
        # per rubric: one text scan, one decision per jurisdiction
        by_rubric = [
            score_jurisdictions(
                v, r, [c or v.jurisdiction or "generic" for c in codes], reader=readers.get(r.id)
            )
            for r in rubrics
        ]
        results.extend((v, list(per_code)) for per_code in zip(*by_rubric, strict=True))

    if args.format == "json":
        out = [
            {
                "id": v.id,
                "jurisdiction": assessments[0].jurisdiction,
                "assessments": [a.to_json() for a in assessments],
            }
            for v, assessments in results
        ]
        _write(json.dumps(out, indent=2, ensure_ascii=False) + "\n", args.output)
        return EXIT_OK

    criteria = list(dict.fromkeys(c for r in rubrics for c in r.criterion_ids))
    rows = []
    for v, assessments in results:
        for a in assessments:
            row: dict[str, Any] = {
                "id": v.id,
                "rubric": a.rubric,
                "jurisdiction": a.jurisdiction,
                "duty": a.duty,
                "action": a.action,
                "rule": a.rule,
            }
            if args.format == "csv":
                rub = next(r for r in rubrics if r.id == a.rubric)
                for c in criteria:
                    row[c] = (c in a.fired) if c in rub.criterion_ids else ""
                row["cautions"] = " | ".join(a.cautions)
            else:
                row["fired"] = ", ".join(a.fired) or "-"
                row["caution"] = "yes" if a.cautions else ""
            rows.append(row)
    base = ["id", "rubric", "jurisdiction", "duty", "action", "rule"]
    if args.format == "csv":
        _write(_csv(rows, [*base, *criteria, "cautions"]), args.output)
    else:
        columns = [*base, "fired"]
        if any(r["caution"] for r in rows):
            columns.append("caution")
        _write(_table(rows, columns), args.output)
    return EXIT_OK


def _readers(rubrics: Sequence[Rubric]) -> dict[str, SecondReader]:
    """The bundled second reader of each rubric that has one (the encoder loads once)."""
    from casekit.reader import bundled_readers, load_reader

    return {r.id: load_reader(r.id) for r in rubrics if r.id in bundled_readers()}


# ------------------------------------------------------------------------------ check


def _problem_json(p: Problem) -> dict[str, Any]:
    return {
        "file": p.file,
        "line": p.line,
        "record": p.record,
        "id": p.id,
        "kind": p.kind,
        "field": p.field,
        "entity": None,
        "text": None,
        "start": None,
        "end": None,
        "message": p.message,
    }


def _cmd_check(args: argparse.Namespace) -> int:
    from casekit.io import check_vignettes

    vignettes, problems = check_vignettes(args.path)
    out = [_problem_json(p) for p in problems]
    if not args.no_pii:
        from casekit.anonymize import lint_records

        out += [{"file": str(args.path), "line": None, **rec} for rec in lint_records(vignettes)]
    if args.format == "json":
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    else:
        for p in problems:
            sys.stdout.write(f"{p}\n")
        for rec in out[len(problems) :]:
            sys.stdout.write(
                f"{rec['file']}: record {rec['record']} (id {rec['id']!r}), "
                f"field {rec['field']!r}: {rec['message']}\n"
            )
        n = len(vignettes)
        verdict = "ok" if not out else f"{len(out)} problem{'s' if len(out) != 1 else ''}"
        sys.stderr.write(f"{args.path}: {n} valid record{'s' if n != 1 else ''}, {verdict}\n")
    return EXIT_INVALID if out else EXIT_OK


# ------------------------------------------------------------------------------ scrub


def _cmd_scrub(args: argparse.Namespace) -> int:
    from casekit.anonymize import lint_records, scrub_vignettes
    from casekit.io import read_vignettes, write_vignettes

    if Path(args.output).resolve() == Path(args.path).resolve():
        raise CasekitError("scrub never modifies its input: give a different -o/--output path")
    vignettes = read_vignettes(args.path)
    scrubbed = scrub_vignettes(vignettes)
    write_vignettes(scrubbed, args.output)
    before, after = len(lint_records(vignettes)), len(lint_records(scrubbed))
    sys.stderr.write(
        f"{args.path}: {before} identifier{'s' if before != 1 else ''} replaced in "
        f"{len(vignettes)} records -> {args.output} ({after} remaining)\n"
    )
    return EXIT_INVALID if after else EXIT_OK


# -------------------------------------------------------------------------- responses


def _cmd_responses(args: argparse.Namespace) -> int:
    from casekit.responses import responses_report

    frame = responses_report(args.file, args.vignettes, by=args.by)
    if args.format == "json":
        text = frame.to_json(orient="records", indent=2, force_ascii=False) + "\n"
    elif args.format == "csv":
        text = frame.to_csv(index=False)
    else:
        text = frame.to_string(index=False) + "\n"
        summary = frame.attrs.get("summary")
        if summary:
            text += "\n" + "\n".join(f"{k}: {v}" for k, v in summary.items()) + "\n"
        excluded = frame.attrs.get("excluded")
        if excluded:
            text += f"\n{excluded} row(s) excluded; see --format json for the report\n"
    _write(text, getattr(args, "output", None))
    return EXIT_OK


# ------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casekit",
        description="Score confidentiality-exception vignettes against explicit criteria.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("score", help="score a vignette set (file or folder)")
    p.add_argument("path", help="YAML, CSV or JSONL vignette file, or a folder of them")
    p.add_argument(
        "--rubric",
        action="append",
        metavar="ID|FILE",
        help="rubric id or YAML file (repeatable; default: every bundled rubric)",
    )
    p.add_argument(
        "--jurisdiction",
        metavar="CODE",
        help="US postal code, DC, 'generic' (Tarasoff standard) or 'all'; "
        "default: each vignette's own jurisdiction",
    )
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--reader",
        action="store_true",
        help="add the trained second reader (sentence model; slower; needs the encoder wheel)",
    )
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("check", help="validate a vignette set: schema, duplicate ids, PII lint")
    p.add_argument("path")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--no-pii", action="store_true", help="skip the identifying-details lint")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("scrub", help="write a copy with identifying details replaced")
    p.add_argument("path")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.set_defaults(func=_cmd_scrub)

    p = sub.add_parser("responses", help="summarise survey or poll responses per vignette")
    p.add_argument("file", help="responses: long or wide CSV, Qualtrics export, or .xlsx")
    p.add_argument("--vignettes", required=True, metavar="PATH", help="the vignette set")
    p.add_argument("--by", metavar="COLUMN", help="group by this respondent column")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("-o", "--output", metavar="FILE")
    p.set_defaults(func=_cmd_responses)
    return parser


def _version() -> str:
    from casekit import __version__

    return f"casekit {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 invalid input, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CasekitError as exc:
        sys.stderr.write(f"casekit {args.command}: {exc}\n")
        return EXIT_INVALID
    except BrokenPipeError:  # `casekit score ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
