"""Products: SKUs, identifiers, physical data and handling flags."""
