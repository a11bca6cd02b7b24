"""Geospatial helpers for gridgov: coordinate systems and geometry utilities."""
