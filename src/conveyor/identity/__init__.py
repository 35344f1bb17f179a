"""Users, sessions, API tokens, roles and permissions."""
