"""Customer accounts: contacts, addresses, credit terms."""
