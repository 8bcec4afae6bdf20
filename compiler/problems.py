"""Problems found in user input: each names its place so that it prints as one line."""

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"  # severities of a check's finding


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return one_line(f"{self.file}:{self.line}:{self.col}:{field} {self.message}")


def one_line(text: str) -> str:
    """Control and other unprintable characters from user input escaped, so a problem stays one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class InputError(Exception):
    """Raised with every problem of a run, so that all of them are reported at once."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = sorted(set(problems))
