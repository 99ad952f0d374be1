"""What the reliability and security tests tried, for the summary the test run prints.

Each test records what it injected and what came of it; `tests/conftest.py` prints the totals
at the end of the run. The tests assert on every case themselves: the ledger only counts, so a
summary of "data lost: 0" is backed by assertions that would have failed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ledger:
    faults: list[str] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (name, "refused"|"imported")
    lost: list[str] = field(default_factory=list)
    outputs_scanned: int = 0
    leaks: list[str] = field(default_factory=list)

    def fault(self, name: str, *, store_intact: bool) -> None:
        """A network or process fault was injected; `store_intact`: checksums as before."""
        self.faults.append(name)
        if not store_intact:
            self.lost.append(name)

    def hostile(self, name: str, *, refused: bool, store_intact: bool = True) -> None:
        """A hostile or broken input was tried: refused with a message, or imported correctly."""
        self.inputs.append((name, "refused" if refused else "imported"))
        if not store_intact:
            self.lost.append(name)

    def scanned(self, outputs: int, leaks: list[str]) -> None:
        """`outputs` files, logs or pages were searched for the test credentials."""
        self.outputs_scanned += outputs
        self.leaks.extend(leaks)

    def lines(self) -> list[str]:
        refused = sum(1 for _, outcome in self.inputs if outcome == "refused")
        return [
            f"faults injected: {len(self.faults)}",
            f"hostile inputs tried: {len(self.inputs)} ({refused} refused with a message, "
            f"{len(self.inputs) - refused} imported correctly)",
            f"data lost: {len(self.lost)}" + (f" ({', '.join(self.lost)})" if self.lost else ""),
            f"secrets leaked: {len(self.leaks)} (in {self.outputs_scanned} outputs searched)"
            + (f" ({', '.join(self.leaks)})" if self.leaks else ""),
        ]

    def empty(self) -> bool:
        return not (self.faults or self.inputs or self.outputs_scanned)


LEDGER = Ledger()
