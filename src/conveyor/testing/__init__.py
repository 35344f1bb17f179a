"""Factories and helpers for tests, shipped so users can write their own tests."""
