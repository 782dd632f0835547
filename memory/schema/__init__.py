"""How the schema evolves: yoyo migrations applied to a file or a server."""
