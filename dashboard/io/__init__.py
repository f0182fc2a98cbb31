"""Readers and writers. Validate once here, rename to canonical names, raise DecentraError."""
