"""The local stack's embedded parts, for `complaints run` and the tests: the
Temporal dev server, embedded PostgreSQL (the optional `pgserver` wheel), an SMTP sink."""
