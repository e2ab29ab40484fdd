"""The operators' console under /console: server-rendered French pages over
the same register, roles and workflow updates as the API."""
