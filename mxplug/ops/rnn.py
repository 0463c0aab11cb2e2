"""Inference and gradients of the rnn operators (registry/rnn.toml)."""
