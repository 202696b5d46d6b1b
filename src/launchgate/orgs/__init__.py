"""Organisations: the tenant every query is scoped to."""
