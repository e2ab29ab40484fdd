"""The worker: runs complaint workflows and their activities."""
