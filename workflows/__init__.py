"""Workflows: one durable run per complaint."""
