"""The worker's sandbox loads the complaint workflow's pure helpers once per
process: a new run (or one evicted from the sticky cache) re-imports only the
workflow's own module, not the helpers, which cost every run's first task."""

import json
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.helpers.histories import HISTORY_CONVERTER
from worker.main import WORKFLOW_HELPERS, workflow_runner
from workflows.complaint import ComplaintWorkflow

LIFECYCLE = Path(__file__).parent / "histories" / "complete_lifecycle.json"


async def test_a_new_run_reimports_the_workflow_but_not_its_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    history = WorkflowHistory.from_json("lifecycle", json.loads(LIFECYCLE.read_text()))
    replayer = Replayer(
        workflows=[ComplaintWorkflow], data_converter=HISTORY_CONVERTER, workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(history)  # the process has loaded what it passes through
    loaded: list[str] = []
    load = SourceFileLoader.get_code

    def recorded(self: SourceFileLoader, name: str) -> object:
        loaded.append(name)
        return load(self, name)

    monkeypatch.setattr(SourceFileLoader, "get_code", recorded)
    await replayer.replay_workflow(history)  # a run of its own: a fresh sandbox
    assert "workflows.complaint.workflow" in loaded  # the workflow itself stays sandboxed
    assert not set(loaded) & set(WORKFLOW_HELPERS), loaded
