"""Kafka adapters built on confluent-kafka: topic admin and a synchronous producer.

Faust agents use aiokafka through Faust; everything else (the API, tools,
tests, benchmarks) uses these.
"""
