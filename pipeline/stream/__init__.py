"""Pure pieces of the streaming detection: record formats and keyed step application.

Faust agents in ``agents/`` call these; nothing here imports Faust or Kafka, so
unit tests cover the logic that decides what the stream stores and emits.
"""
