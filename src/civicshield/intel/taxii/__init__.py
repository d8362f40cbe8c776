"""The TAXII 2.1 server's logic (being built)."""

__all__: list[str] = []
