"""The one exception tree of duecourse.

Every error a user can cause is a `DuecourseError` whose message is a sentence
naming the offending value and, where possible, the fix. The CLI and the HTTP
layer each map this tree to their own errors in one place.
"""

from __future__ import annotations


class DuecourseError(Exception):
    """Base of every error duecourse raises on purpose."""


class InvalidField(DuecourseError):
    """A value given by a user is wrong; names the field and how to fix it."""

    def __init__(self, field: str, problem: str, fix: str = "") -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        sentence = f"{field}: {problem}"
        if fix:
            sentence += f"; {fix}"
        super().__init__(sentence)


class InvalidRule(DuecourseError):
    """A collection rule file cannot be used; lists every problem found."""

    def __init__(self, source: str, problems: list[InvalidField]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source} is not a valid collection rule:\n{lines}")


class InvalidImport(DuecourseError):
    """A file to import has bad rows; nothing from it was stored.

    `problems` are the sentences a person reads; `fields` name the column and
    the reason of each problem that has a column, for callers that map them
    back to their own fields.
    """

    def __init__(
        self, source: str, problems: list[str], fields: list[InvalidField] | None = None
    ) -> None:
        self.source = source
        self.problems = problems
        self.fields = fields or []
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"{source} was not imported ({len(problems)} problem(s)), "
            f"nothing was stored:\n{lines}"
        )


class NotFound(DuecourseError):
    """A record named by the user does not exist."""


class Conflict(DuecourseError):
    """The request contradicts what is already stored."""


class CurrencyMismatch(DuecourseError):
    """Two amounts in different currencies were combined."""
