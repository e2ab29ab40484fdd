"""Removing a complaint's runs from Temporal after its erasure: a deleted
execution's history (inputs, signals, updates, results, failures) can no
longer be fetched, decoded or not, nor found by its search attributes."""

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode


async def delete_runs(client: Client, reference: str) -> int:
    """Delete every run of the complaint's workflow (its id is the reference):
    each run continued-as-new, and the latest; a running one is terminated
    by the deletion. Deleting again finds none."""
    run_ids = {execution.run_id async for execution in client.list_workflows(f"WorkflowId = '{_quoted(reference)}'")}
    try:
        run_ids.add((await client.get_workflow_handle(reference).describe()).run_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    for run_id in run_ids:
        try:
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=reference, run_id=run_id),
                )
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
    return len(run_ids)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
