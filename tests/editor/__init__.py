"""Tests of the YAML editor's engine: validation, diff/apply against the sim, drafts, $EDITOR, kustomize."""
