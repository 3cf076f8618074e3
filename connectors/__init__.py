"""Connectors that land a source's files in the landing folder from the system that has them."""
