"""The baseline: a workflow that runs one activity that does nothing."""

import argparse
import asyncio
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def touch(reference: str) -> str:
    return reference


@workflow.defn
class MinimalWorkflow:
    @workflow.run
    async def run(self, reference: str) -> str:
        return await workflow.execute_activity(touch, reference, start_to_close_timeout=timedelta(seconds=10))


async def serve(task_queue: str) -> None:
    # Imported here: this module is re-imported in the workflow sandbox.
    from temporalio.worker import Worker

    from complaints.settings import Settings
    from complaints.temporal_client import connect

    client = await connect(Settings())
    await Worker(client, task_queue=task_queue, workflows=[MinimalWorkflow], activities=[touch]).run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--task-queue", required=True)
    asyncio.run(serve(parser.parse_args().task_queue))
