"""Capture: every channel's documents translated into one shape (model.py), then placed by the core.

Adapters (shopify.py, woocommerce.py, amazon.py, x12_850.py, edifact_orders.py, csv_orders.py) only
translate: they yield `CapturedOrder`, `Rejected` and `Ignored` items and never touch the database.
Resolving customers and items, idempotency, review and reservation happen once, in the core
(`conveyor.channels.capture.service`), for every channel alike.
"""
