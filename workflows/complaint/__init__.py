"""The complaint workflow, one durable run per complaint.

- workflow.py: the run, its phases and its message handlers (thin);
- rules.py: whether an operator's command fits (the update validators);
- deadlines.py: the SLA clocks and what a warning or breach changes;
- entries.py: what each step journals and writes to the customer;
- calls.py: the activities, with their timeouts and retries;
- visibility.py: search attributes, the UI's details and metrics."""

from workflows.complaint.workflow import ComplaintWorkflow

__all__ = ["ComplaintWorkflow"]
