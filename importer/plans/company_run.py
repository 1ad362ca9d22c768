"""One company's part of a fleet run: its state, its steps' summaries, its exit code.

:func:`importer.plans.fleet.run_fleet` keeps a :class:`CompanyRun` per company of the
manifest and updates it as the company's plan goes; the live display
(:mod:`importer.plans.progress`) and the fleet's summary read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from importer.client import ApiClient
from importer.entities import counts_documents
from importer.plans.manifest import Company
from importer.plans.plan import Step
from importer.summary import Summary
from importer.vocabulary import CompanyState

__all__ = ["CompanyRun"]


@dataclass
class CompanyRun:
    """One company's part of a fleet run, as it goes and when it is over."""

    company: Company
    state: CompanyState = "waiting"  # waiting, running, then done, refused, failed, stopped or not started
    steps: list[tuple[Step, Summary]] = field(default_factory=list)
    step: Step | None = None  # the step running now
    current: Summary | None = None  # its summary, counting as it goes
    client: ApiClient | None = None
    error: str | None = None  # why the company stopped short, when an error did it
    error_code: int = 0
    refused: bool = False  # its preflight found records its company would refuse: nothing was sent
    started_at: float | None = None
    elapsed: float = 0.0

    @property
    def name(self) -> str:
        return self.company.name

    def watch(self, step: Step, summary: Summary) -> None:
        self.step, self.current = step, summary
        summary.company = self.name  # the target its summary names: the manifest's company

    @property
    def why(self) -> str | None:
        """Why the company did not end well, in words (None when it did): its own error, else its
        first step that stopped short, failed records or was stopped, and the steps not run."""
        if self.error:
            return self.error
        if self.exit_code == 0:
            return None
        said: list[str] = []
        for step, summary in self.steps:
            o = summary.outcomes
            if summary.error:
                said.append(f"step {step.name!r}: {summary.error}")
            elif summary.interrupted:
                said.append(f"step {step.name!r} was stopped")
            elif summary.exit_code:
                parts = [f"{o[name]:,} {name}" for name in ("failed", "invalid", "skipped") if o[name]]
                if summary.unrecorded:
                    parts.append(f"{summary.unrecorded:,} unrecorded")
                if summary.earlier_failed:
                    parts.append(f"{summary.earlier_failed:,} failed in an earlier run")
                if summary.release_failed or summary.release_queued:
                    parts.append(f"{summary.release_failed + summary.release_queued:,} releases not done")
                said.append(f"step {step.name!r}: " + (", ".join(parts) or f"exit code {summary.exit_code}"))
        if self.state == "not started":
            said.append("stopped before it started")
        elif self.not_run:
            said.append(f"{self.not_run} step(s) not run")
        return "; ".join(said) or f"exit code {self.exit_code}"

    @property
    def summaries(self) -> list[Summary]:
        finished = [summary for _, summary in self.steps]
        if self.current is not None and all(self.current is not s for s in finished):
            finished.append(self.current)  # the step under way
        return finished

    @property
    def not_run(self) -> int:
        """Steps of its plan that did not run (a step before them stopped short, or the company did)."""
        return len(self.company.plan.steps) - len(self.steps)

    @property
    def interrupted(self) -> bool:
        return any(s.interrupted for _, s in self.steps) or self.state == "not started"

    @property
    def exit_code(self) -> int:
        codes = [s.exit_code for _, s in self.steps]
        if self.interrupted:
            return 130
        if self.error_code:
            codes.append(self.error_code)
        elif self.not_run:
            codes.append(1)
        return max(codes, default=0)

    def total(self, name: str) -> int:
        """A counter summed over its steps (``records``, ``calls``, ``throttled``, ...) or an outcome."""
        return sum(s.outcomes[name] if name in s.outcomes else getattr(s, name) for s in self.summaries)

    def units(self, name: str) -> int:
        """A count in customers, documents or actions summed over its steps: ``units``,
        ``units_done``, ``units_succeeded`` or an outcome (``failed``...)."""
        return sum(s.unit_outcomes[name] if name in s.unit_outcomes else getattr(s, name) for s in self.summaries)

    @property
    def documents(self) -> bool:
        """Whether a step of its so far loads documents: its counts are then documents, then rows."""
        return any(counts_documents(s.entity) for s in self.summaries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.name,
            "tenant_id": self.company.tenant_id,
            "results_dir": self.company.results_dir,
            "state": self.state,
            "exit_code": self.exit_code,
            "error": self.why,
            "steps_not_run": self.not_run,
            "elapsed_s": round(self.elapsed, 3),
            "steps": [{"step": step.name, **summary.to_dict()} for step, summary in self.steps],
        }
