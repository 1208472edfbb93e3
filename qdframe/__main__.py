"""``python -m qdframe`` runs the command line."""

from qdframe.cli import main

main()
