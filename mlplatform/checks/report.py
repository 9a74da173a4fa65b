"""A list of check results as a table for people or JSON for machines, and the exit code it means."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from dataclasses import dataclass, field

from mlplatform.checks.base import FAILED, PASSED, SKIPPED, WARNING, CheckResult

# Marks the one JSON line the validate hook prints after its table, so `mlp validate --release`
# can read the report back out of `helm test --logs`.
JSON_LINE_PREFIX = "mlplatform-report: "

_MARKS = {PASSED: "ok", FAILED: "FAIL", WARNING: "warn", SKIPPED: "skip"}


@dataclass
class Report:
    title: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if result.failed]

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self) -> dict[str, int]:
        return {status: sum(r.status == status for r in self.results) for status in (PASSED, FAILED, WARNING, SKIPPED)}

    def to_dict(self) -> dict:
        return {"title": self.title, "ok": self.ok, "seconds": round(self.seconds, 3), "counts": self.counts(),
                "results": [result.to_dict() for result in self.results]}

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        return cls(title=data.get("title", ""), seconds=data.get("seconds", 0.0),
                   results=[CheckResult(**result) for result in data.get("results", [])])

    def json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def json_line(self) -> str:
        return JSON_LINE_PREFIX + json.dumps(self.to_dict(), separators=(",", ":"))

    def table(self, width: int | None = None) -> str:
        """Wrapped to the terminal; unwrapped when written to a pipe or a log (one result, one line)."""
        if width is None:
            width = max(80, shutil.get_terminal_size().columns) if sys.stdout.isatty() else 100_000
        headers = ("", "CHECK", "COMPONENT", "DETAIL")
        rows = [(_MARKS.get(r.status, r.status), r.check, r.component, r.detail) for r in self.results]
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
        detail_width = max(30, width - sum(widths) - 6)
        lines = [self.title, ""]
        for row in [headers, *rows]:
            prefix = "  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row[:3]))
            wrapped = textwrap.wrap(str(row[3]), detail_width) or [""]
            lines.append(f"{prefix}  {wrapped[0]}".rstrip())
            lines += [" " * (len(prefix) + 2) + more for more in wrapped[1:]]
        counts = self.counts()
        summary = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        verdict = "PASSED" if self.ok else f"FAILED: {', '.join(sorted({f'{r.component} ({r.check})' for r in self.failures}))}"
        lines += ["", f"{verdict}   [{summary}; {self.seconds:.1f}s]"]
        return "\n".join(lines)


def find_json_line(text: str) -> Report | None:
    """The report a validate run printed as its JSON line, if `text` holds one."""
    for line in reversed(text.splitlines()):
        _, marker, payload = line.partition(JSON_LINE_PREFIX)
        if marker:
            return Report.from_dict(json.loads(payload))
    return None
