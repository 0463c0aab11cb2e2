"""Inference and gradients of the norm operators (registry/norm.toml)."""
