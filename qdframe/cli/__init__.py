"""The ``qdframe`` command line."""
