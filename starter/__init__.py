"""The `complaints` command line: operators' commands, and the processes it starts."""
