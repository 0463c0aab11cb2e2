"""`mx.random`: seeding and sampling (the samplers are `mx.nd.random`'s)."""

from __future__ import annotations

__all__: list[str] = []
