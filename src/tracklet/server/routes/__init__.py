"""One module per REST resource, each exporting ``routes`` (a list of Starlette routes)."""
