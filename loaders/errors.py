"""The one error type the loaders raise for bad input, network faults and store problems.

Every message names *where* (a file, a row and column, a URL) and *what* is wrong, so the CLI
and the app can show it as a single line without a traceback.
"""

from __future__ import annotations


class LoaderError(Exception):
    """A user-facing problem: `where` is a file, row/column or URL; `problem` says what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def redact(text: str, secrets: list[str | None]) -> str:
    """Remove credential values from a message before it is shown or logged."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
