"""The marketer's dashboard: server-rendered pages behind a login (`/dashboard`)."""
