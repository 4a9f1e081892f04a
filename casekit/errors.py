"""Exceptions raised by casekit.

Every error that a user can cause by handing casekit a bad file or a bad id is a
:class:`CasekitError`; the command line turns those into exit code 1, and widgets show
their message. Anything else is a bug and is allowed to propagate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AnonymizationError",
    "CasekitError",
    "DataFormatError",
    "Problem",
    "RubricError",
]


class CasekitError(Exception):
    """Base class for errors caused by input rather than by casekit itself."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input record.

    ``record`` is the 0-based index of the record in its file (``None`` for a
    file-level problem), ``line`` the 1-based line in the file where known.
    """

    file: str
    message: str
    record: int | None = None
    id: str | None = None
    field: str | None = None
    line: int | None = None
    kind: str = "schema"

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            rec = f"record {self.record}"
            if self.id is not None:
                rec += f" (id {self.id!r})"
            where.append(rec)
        elif self.id is not None:
            where.append(f"id {self.id!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return ": ".join([", ".join(where), self.message])


class DataFormatError(CasekitError):
    """A data file (vignettes, responses, jurisdictions) is malformed.

    Loaders collect every problem in a file and raise once; ``problems`` holds them all.
    """

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="<input>", message=problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:\n" if n > 1 else ""
        super().__init__(head + "\n".join(f"  {p}" if n > 1 else str(p) for p in self.problems))


class RubricError(CasekitError):
    """A rubric file breaks the rubric schema: names the rubric, the part and the key."""


class AnonymizationError(DataFormatError):
    """A vignette set still holds identifying details and was loaded with ``strict=True``.

    ``problems`` lists every finding (kind ``"pii"``) with its record, id and field.
    """
