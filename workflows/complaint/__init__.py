"""The complaint workflow, one durable run per complaint.

- workflow.py: the run, its phases and its message handlers (thin);
- commands.py: what operators' commands do, the state each claims, the lock;
- background.py: the deadline watcher and alert deliveries, the filer of
  customer messages, continue-as-new;
- steps.py: the steps all of them share (journal, email or letter, phase);
- rules.py: whether an operator's command fits (the update validators);
- deadlines.py: the SLA clocks and what a warning or breach changes;
- entries.py: what each step journals and writes to the customer;
- calls.py: the activities, with their timeouts and retries;
- visibility.py: search attributes, the UI's details and metrics;
- patches.py: the paths runs take where the workflow changed how it runs."""

from workflows.complaint.workflow import ComplaintWorkflow

__all__ = ["ComplaintWorkflow"]
