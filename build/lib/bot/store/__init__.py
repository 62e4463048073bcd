"""SQL storage: the database is the truth for subscribers, consent and messages."""
