"""Tamer: a keyboard-driven terminal control center for Kubernetes, Docker and Podman."""

__version__ = "0.1.0"
