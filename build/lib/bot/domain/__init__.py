"""The conversation core: plain data in, decisions out. No I/O lives here."""
