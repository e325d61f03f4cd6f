"""The Faust app and its agents: thin shells that read topics, call ``pipeline``,
update tables and write topics. No detection logic lives here."""
