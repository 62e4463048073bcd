"""aiohttp handlers only: parse the request, call the core through the services, render."""
