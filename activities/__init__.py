"""Activities: every I/O of the complaint workflow (register, email)."""
