"""How statements reach a database: the local file and the libSQL server (Hrana)."""
