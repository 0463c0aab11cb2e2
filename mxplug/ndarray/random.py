"""`mx.nd.random`: sampling operators with MXNet's signatures."""

from __future__ import annotations

__all__: list[str] = []
