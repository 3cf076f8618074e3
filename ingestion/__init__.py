"""Landing files into the working database: schemas, parsing, loading, bookkeeping."""
