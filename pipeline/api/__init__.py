"""The HTTP door (FastAPI): ingest in the event contract, protected by tenant API keys."""
