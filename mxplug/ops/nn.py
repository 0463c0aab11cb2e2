"""Inference and gradients of the nn operators (registry/nn.toml)."""
