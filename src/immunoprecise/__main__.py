"""``python -m immunoprecise`` runs the command line."""

from immunoprecise.cli import main

main()
