"""Redapter: self-adaptive embedder training with RI-InfoNCE (ReasonEmbed §3)."""
