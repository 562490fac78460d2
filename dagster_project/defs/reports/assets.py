"""Report assets (filled in once the report library lands)."""

ASSETS: list = []
