"""The core every other part builds on, and which imports none of them:
settings, the deadline policy, the data models, the register's database, and
the intake every channel takes complaints in through (docs/architecture.md)."""
