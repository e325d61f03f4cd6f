"""PostgreSQL adapters (psycopg 3): migrations, sinks, tenants and API keys."""
