"""Shared building blocks with no dependencies beyond the standard library."""
