"""Contrastive losses for Redapter: InfoNCE, RI-InfoNCE, and the GradCache wrapper."""

from __future__ import annotations

from reasonembed.losses.gradcache import GradCache
from reasonembed.losses.infonce import InfoNCELoss, infonce_per_sample
from reasonembed.losses.ri_infonce import RIInfoNCELoss

__all__ = ["GradCache", "InfoNCELoss", "RIInfoNCELoss", "infonce_per_sample"]
