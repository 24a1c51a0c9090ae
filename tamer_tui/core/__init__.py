"""Backend layer: models, the runtime protocol, Docker, Podman, settings and detection.

Nothing in this package imports Textual or anything from ``tamer_tui.ui`` (checked by import-linter
and by ``tests/test_layers.py``).
"""
