"""SQLAlchemy models. Nothing here talks to AWS or ffmpeg."""

from models.base import Base, utcnow
from models.clip import Clip
from models.dead_letter import DeadLetter
from models.detection import KINDS, Detection, TimelineRange
from models.job import AnalysisJob, JobState
from models.thumbnail import Thumbnail
from models.video import Video

__all__ = [
    "KINDS",
    "AnalysisJob",
    "Base",
    "Clip",
    "DeadLetter",
    "Detection",
    "JobState",
    "Thumbnail",
    "TimelineRange",
    "Video",
    "utcnow",
]
