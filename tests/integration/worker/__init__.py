"""Integration tests of the background job worker."""
