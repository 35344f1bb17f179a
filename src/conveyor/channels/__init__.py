"""Sales channels: where orders come from (API, web shop, marketplaces, EDI, CSV, phone)."""
