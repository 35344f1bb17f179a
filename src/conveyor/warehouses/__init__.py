"""Warehouses: where stock is kept and orders ship from."""
