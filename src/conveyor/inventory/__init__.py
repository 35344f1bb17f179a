"""Inventory: stock balances per SKU and warehouse, the movements ledger, reservations."""
