"""The one error type the loaders raise for bad input, network faults and store problems.

Every message names *where* (a file, a row and column, a URL) and *what* is wrong, so the CLI
and the app can show it as a single line without a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

MAX_PROBLEM_CHARS = 300
SECRET_VARIABLES = (
    "UCDP_API_TOKEN",
    "ACLED_USERNAME",
    "ACLED_PASSWORD",
    "ACLED_API_KEY",
    "ARTICLE99_SMTP_USERNAME",
    "ARTICLE99_SMTP_PASSWORD",
)


class LoaderError(Exception):
    """A user-facing problem: `where` is a file, row/column or URL; `problem` says what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        if len(problem) > MAX_PROBLEM_CHARS:  # a quoted cell or a list of names can be huge
            problem = f"{problem[:MAX_PROBLEM_CHARS]}… ({len(problem):,} characters)"
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def redact(text: str, secrets: list[str | None]) -> str:
    """Remove credential values from a message before it is shown or logged."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def run_command(
    run: Callable[[], None],
    errors: tuple[type[BaseException], ...] = (LoaderError,),
    interrupted: str = "interrupted",
) -> int:
    """A CLI's exit code: 0, or 1 with one line on stderr (credentials removed), 130 on Ctrl-C."""
    try:
        run()
    except errors as exc:
        message = redact(" ".join(str(exc).split()), [os.environ.get(v) for v in SECRET_VARIABLES])
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    return 0
