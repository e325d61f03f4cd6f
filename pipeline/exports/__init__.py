"""Regulatory exports: EU DSA statements of reasons, a transparency report, a UK OSA record pack.

Pure builders (``dsa``, ``transparency``, ``osa``, ``render``) turn plain figures into
documents; ``queries`` reads those figures from PostgreSQL for one tenant and period;
``service`` ties them together and logs each export in the audit log. docs/exports.md.
"""
