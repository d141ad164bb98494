"""The canonical data model: every model input is a view of these objects."""

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import Cascade, CascadeSet
from cascadekit.data.content import Content
from cascadekit.data.events import EventLog
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary

__all__ = [
    "Cascade",
    "CascadeSet",
    "Content",
    "DatasetBundle",
    "EventLog",
    "ReadReport",
    "SocialGraph",
    "Vocabulary",
]
