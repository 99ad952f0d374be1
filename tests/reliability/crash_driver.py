"""Run `python -m loaders ARGS` and kill the process (SIGKILL) at a named point of the import.

    python -m tests.reliability.crash_driver POINT ARGS...

The points are found with `sys.setprofile`, which watches calls without changing any code:
when the import reaches the point, the process sends itself SIGKILL, exactly as if it had been
killed from outside at that instant (no handler, no cleanup, no flush). Exit status -9 proves
the point was reached; a run that never reaches it exits normally.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType

from loaders.cli import main


def _name(frame: FrameType) -> str:
    return frame.f_code.co_name


def _path_name(frame: FrameType) -> str:
    path = frame.f_locals.get("path")
    return getattr(path, "name", "")


# point -> (profile event, test on the frame and the event's argument)
POINTS: dict[str, tuple[str, Callable[[FrameType, object], bool]]] = {
    # the raw file is in staging; it is being parsed
    "parse": (
        "call",
        lambda f, _a: _name(f) == "read_file" and "loaders" in f.f_globals["__name__"],
    ),
    # events.parquet is written in staging, provenance.json not yet
    "write": (
        "call",
        lambda f, _a: _name(f) == "_write_json_atomic" and _path_name(f) == "provenance.json",
    ),
    # the import's folder is in imports/, the manifest does not name it yet
    "move": ("call", lambda f, _a: _name(f) == "_swap_manifest"),
    # the new manifest is in the history and in a temporary file, about to replace the live one
    "swap": (
        "c_call",
        lambda f, a: (
            a is os.replace
            and _name(f) == "_write_json_atomic"
            and _path_name(f) == "manifest.json"
        ),
    ),
    # the new manifest is live; old imports are about to be collected
    "collect": ("call", lambda f, _a: _name(f) == "collect_garbage"),
}


def kill_at(point: str) -> None:
    """Arrange for this process to be killed when it reaches `point` (see POINTS)."""
    event, test = POINTS[point]

    def profile(frame: FrameType, seen: str, arg: object) -> None:
        if seen == event and test(frame, arg):
            os.kill(os.getpid(), signal.SIGKILL)

    sys.setprofile(profile)


if __name__ == "__main__":
    kill_at(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
