"""index operators: inference and gradients."""

from __future__ import annotations
