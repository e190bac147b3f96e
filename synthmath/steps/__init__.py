"""The pipeline's steps: what to ask for each seed, and how to judge the replies."""

from .rephrase_answer import RephraseAnswer
from .rephrase_question import RephraseQuestion
from .verify import check_answer, check_question

__all__ = ["RephraseAnswer", "RephraseQuestion", "check_answer", "check_question"]
