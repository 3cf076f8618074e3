"""Great Expectations suites of Siyu's landing sources, built from `ingestion.schemas`."""
