"""``python -m imrkg`` runs the command line."""

from imrkg.cli import main

main()
