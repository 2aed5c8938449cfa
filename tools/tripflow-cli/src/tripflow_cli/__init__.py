"""The tripflow command line."""
