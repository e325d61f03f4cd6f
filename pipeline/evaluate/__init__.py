"""Judging detection against ground truth: metrics, the word-list baseline, the report."""
