"""The SQLite history: schema, inserts and queries. Written by the writer only; read (read-only) by the workers."""
