"""Publishing builds: the dataset card, its plots, and the push to the Hugging Face Hub."""

from ..errors import HubError
from .hub import push_to_hub, stage

__all__ = ["HubError", "push_to_hub", "stage"]
