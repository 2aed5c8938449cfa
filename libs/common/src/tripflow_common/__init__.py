"""Shared building blocks of the tripflow services."""
