"""The reduced reliability campaign, in the test suite: every scenario, every kind of fault.

Each test runs one scenario at ``Scale.quick()`` (the full campaign is
``bash scripts/reliability``) and requires that nothing was lost or corrupted, that no
expectation was violated, and that faults (or hostile inputs) were really injected.
Every defect the campaign found is guarded by the scenario that found it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.campaign import SCENARIOS, run_scenario
from tests.reliability.report import Scale, format_table

pytestmark = [pytest.mark.slow, pytest.mark.remote]

#: Scenarios whose load is contention or input rather than injected faults.
NO_FAULTS = {"writers", "hostile", "injection", "shared_session"}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_holds(name: str, tmp_path: Path) -> None:
    outcome = run_scenario(name, Scale.quick(), tmp_path / name)
    assert outcome.ok, format_table([outcome])
    assert outcome.lost == 0 and outcome.corrupted == 0
    if name not in NO_FAULTS:
        assert outcome.faults > 0, f"{name} injected no fault"
    if name == "hostile":
        assert outcome.bad_inputs > 100
    if name == "injection":
        assert outcome.bad_inputs >= 10
        assert "0 raw controls shown" in outcome.load
    if name == "writers":
        assert "4 writer processes" in outcome.load
