"""Starting complaints: the one idempotent start function every intake channel
uses, and the `complaints` command line."""
