"""Errors that carry a machine-readable code, a message and the path of the field at fault.

Entry points map them to responses: HTTP problem documents for the API, messages for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    code: str
    message: str
    field: str | None = None


class DomainError(Exception):
    """A business rule refused something. `status` is the HTTP status an API answers with."""

    status: int = 422

    def __init__(self, code: str, message: str, field: str | None = None,
                 problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.problems: list[FieldProblem] = problems or [FieldProblem(code, message, field)]


class ValidationFailed(DomainError):
    status = 422

    @classmethod
    def of(cls, problems: list[FieldProblem]) -> ValidationFailed:
        first = problems[0]
        summary = first.message if len(problems) == 1 else f"{len(problems)} problems, first: {first.message}"
        return cls(first.code, summary, first.field, problems)


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class InvalidTransition(Conflict):
    """A lifecycle move that the transitions table does not allow from the current stage."""


@dataclass
class ProblemCollector:
    """Collects every problem in an input before failing, so a client can fix them all at once."""

    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, code: str, message: str, field: str | None = None) -> None:
        self.problems.append(FieldProblem(code, message, field))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed.of(self.problems)


class NotAllowed(DomainError):
    """The caller is authenticated and has the permission, but not for this data (e.g. another account)."""

    status = 403
