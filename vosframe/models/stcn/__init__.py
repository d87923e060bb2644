"""STCN-style memory base model with bounded memory (STCN schedule or RDE embedding)."""

from .model import STCN

__all__ = ["STCN"]
