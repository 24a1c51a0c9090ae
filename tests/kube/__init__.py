"""Tests for tamer_tui.core.kube: kubeconfig, cluster discovery, flavor probes and import."""
