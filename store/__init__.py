"""Persistence: SQLAlchemy models and repository functions for SQLite and PostGIS."""
