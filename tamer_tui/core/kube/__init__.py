"""Kubernetes support in the core layer: kubeconfig loading, cluster discovery, flavors, import."""
