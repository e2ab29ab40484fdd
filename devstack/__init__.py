"""The local stack `make run` starts: Temporal dev server, embedded PostgreSQL,
an SMTP sink, and the worker."""
