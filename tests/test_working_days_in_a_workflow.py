"""The regimes' arithmetic inside a workflow's sandbox, replayed: the calendar
in the input is all it reads (the zone database aside), so a replay gives the
same dates."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Replayer, Worker

with workflow.unsafe.imports_passed_through():
    from complaints.policy import RegulatoryDates
    from complaints.settings import Settings
    from complaints.submission import Channel
    from complaints.workflow_state import ComplaintStart
    from tests.helpers.session import CONVERTER


@workflow.defn(sandboxed=True)
class RegulatoryDatesWorkflow:
    @workflow.run
    async def run(self, start: ComplaintStart) -> RegulatoryDates:
        return start.policy.regulatory_dates(start.regime, start.sent_at, start.received_at)


async def test_the_regimes_dates_in_a_sandboxed_workflow_and_its_replay(client: Client) -> None:
    paris = ZoneInfo("Europe/Paris")
    sent, received = datetime(2026, 12, 24, 16, 45, tzinfo=paris), datetime(2026, 12, 28, 9, 0, tzinfo=paris)
    start = ComplaintStart(
        reference="R",
        received_at=received,
        sent_at=sent,
        regime="payment_services",
        channel=Channel.LETTER,
        policy=Settings(_env_file=None).complaint_policy_at(sent),
    )
    queue = f"dates-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[RegulatoryDatesWorkflow]):
        handle = await client.start_workflow(
            RegulatoryDatesWorkflow.run, start, id=f"dates-{uuid.uuid4().hex}", task_queue=queue
        )
        dates = await handle.result()
    assert dates == start.policy.regulatory_dates("payment_services", sent, received)
    assert dates.acknowledgement_due == datetime(2027, 1, 8, tzinfo=paris)  # end of Thursday 7 January
    await Replayer(workflows=[RegulatoryDatesWorkflow], data_converter=CONVERTER).replay_workflow(
        await handle.fetch_history()
    )
