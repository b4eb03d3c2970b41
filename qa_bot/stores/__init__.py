"""Stores: where chunks, vectors and lexical indexes live (``base.py``), one backend a file."""
