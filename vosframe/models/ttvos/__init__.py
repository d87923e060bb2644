"""TTVOS: template attention, short-term matching and a light decoder (see :mod:`.model`)."""

from vosframe.models.ttvos.decoder import TTVOSDecoder
from vosframe.models.ttvos.localizer import TTVOSLocalizer, TTVOSObjectState
from vosframe.models.ttvos.model import TTVOS

__all__ = ["TTVOS", "TTVOSDecoder", "TTVOSLocalizer", "TTVOSObjectState"]
