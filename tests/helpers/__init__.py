"""Helpers shared by tests and test tools (never test modules themselves)."""
