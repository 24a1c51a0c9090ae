"""Embedded simulated Kubernetes API server (``tamer sim``).

Real ``kubectl``, ``helm`` and the official Python client talk to it over TLS with bearer tokens.
This package never imports the UI, Textual or Rich.
"""
