"""Migrations of the web service's own models."""
