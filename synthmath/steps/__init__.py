"""The pipeline's steps: what to ask for each seed, and how to judge the replies."""

from .rephrase_answer import RephraseAnswer
from .rephrase_question import RephraseQuestion
from .similarity import CopyCheck, answer_copies_original, duplicate_rephrasing, question_copies_seed
from .solve_check import SolveCheck, SolveVerdict, judge_solutions
from .verify import check_answer, check_question

__all__ = [
    "CopyCheck",
    "RephraseAnswer",
    "RephraseQuestion",
    "SolveCheck",
    "SolveVerdict",
    "answer_copies_original",
    "check_answer",
    "check_question",
    "duplicate_rephrasing",
    "judge_solutions",
    "question_copies_seed",
]
