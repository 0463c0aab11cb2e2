"""Inference and gradients of the conv operators (registry/conv.toml)."""
