"""``python -m qdframe`` runs the command line."""

from qdframe.cli.main import main

main()
