"""`python -m civicshield` runs the CLI."""

from civicshield.cli import main

main()
