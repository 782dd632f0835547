"""The TUI's widgets (each self-contained, styled by its own DEFAULT_CSS)."""
