"""wardstream's pure library: event model, validation, pseudonyms, detection, scoring.

Nothing in this package imports faust, aiokafka, psycopg or fastapi except the
I/O adapters under ``pipeline.io`` and the HTTP door under ``pipeline.api``;
``tests/unit/test_layering.py`` keeps it so.
"""
