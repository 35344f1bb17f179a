"""Infrastructure shared by every business area: database, outbox, web, observability."""
