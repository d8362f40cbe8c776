"""Integration tests of the `civicshield` command line."""
