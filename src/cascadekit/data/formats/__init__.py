"""Readers and writers, one module per external format; each returns a DatasetBundle."""
