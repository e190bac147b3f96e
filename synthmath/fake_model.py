"""A fake model that shows the pipeline working: it rewords and solves MATH-like problems, by rule.

:class:`FakeMathModel` answers synthmath's own prompts as a faithful, always-right model would, with no
weights and no randomness, so a build against it keeps records and shows every stage:

- asked to reword a problem (the ``rephrase_question`` prompt), it rewrites the prose with a table of
  synonyms and phrasings ("What is" becomes "Find", "How many" becomes "Determine how many", "largest"
  becomes "greatest", ...), opens with one of a few lead-ins (a different one per sample), and keeps
  every formula, number and number word;
- asked to write a solution (the ``rephrase_answer`` prompt, which quotes the reference solution), it
  restates the problem as reworded, rewrites the reference solution's prose the same way, and ends
  with ``The answer is $\\boxed{...}$`` holding the reference solution's final answer;
- asked to solve a problem from scratch (``--answer-mode solve``, ``--check-questions solve``), it
  cannot: it says so, with no boxed answer, and the answer is rejected as ``no_boxed_answer``.

Problems with little prose to reword (a bare formula) can come back close to the original and be
rejected as copies, as they would be from a real model. Serve it with ``synthmath fake-server`` (or
``python -m synthmath.testing``) and point a build at it with ``--base-url``.
"""

from __future__ import annotations

import re
from typing import Any

from .fake_replies import Reply

__all__ = ["FakeMathModel", "reword_prose"]

# what rewording leaves alone: math, diagrams, LaTeX commands with their arguments
_KEEP = re.compile(
    r"(\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)|\[asy\].*?\[/asy\]|\\[a-zA-Z]+(?:\{[^{}]*\})*)", re.S
)

# whole-sentence openings: a question becomes an instruction (its "?" becomes ".")
_OPENINGS = [
    (re.compile(r"^What is the value of\b", re.I), "Find the value of"),
    (re.compile(r"^What is\b", re.I), "Find"),
    (re.compile(r"^What's\b", re.I), "Find"),
    (re.compile(r"^How many\b", re.I), "Determine how many"),
    (re.compile(r"^How much\b", re.I), "Determine how much"),
    (re.compile(r"^Which\b", re.I), "Determine which"),
    (re.compile(r"^For what value\b", re.I), "Find the value"),
    (re.compile(r"^For how many\b", re.I), "Count for how many"),
]

# word and phrase substitutions, all meaning-preserving in a math problem or solution
_PHRASES = [
    ("find", "determine"),
    ("compute", "calculate"),
    ("calculate", "work out"),
    ("evaluate", "compute"),
    ("determine", "find"),
    ("express your answer", "give your answer"),
    ("largest", "greatest"),
    ("smallest", "least"),
    ("biggest", "largest"),
    ("suppose", "assume"),
    ("buys", "purchases"),
    ("bought", "purchased"),
    ("costs", "is priced at"),
    ("equals", "is equal to"),
    ("we have", "this gives"),
    ("we get", "we obtain"),
    ("we find", "we obtain"),
    ("therefore", "hence"),
    ("thus", "so"),
    ("hence", "therefore"),
    ("since", "because"),
    ("note that", "observe that"),
    ("notice that", "observe that"),
    ("which means", "so"),
    ("we can", "we may"),
    ("we need", "we must"),
    ("the answer is", "the result is"),
    ("because", "as"),
    ("gives", "yields"),
    ("using", "by"),
    ("number of", "count of"),
    ("is equal to", "equals"),
    ("simplify", "reduce"),
    ("exactly", "precisely"),
    ("possible", "attainable"),
    ("different", "distinct"),
    ("has", "possesses"),
    ("given that", "knowing that"),
    ("such that", "so that"),
    ("the following", "this"),
    ("consider", "look at"),
    ("randomly", "at random"),
    ("at random", "randomly"),
    ("the sum of", "the total of"),
    ("chosen", "picked"),
    ("satisfying", "that satisfies"),
    ("in terms of", "as a function of"),
    ("express", "write"),
    ("what is", "find"),
    ("let", "take"),
]
_PHRASE_RE = re.compile(r"(?<![\w\\])(" + "|".join(re.escape(a) for a, _ in _PHRASES) + r")(?![\w{])", re.I)
_PHRASE = {a: b for a, b in _PHRASES}

_LEAD_INS = ["Here is a problem. ", "Consider the following. ", "Try this one. ", "A question for you. "]


def _match_case(src: str, dst: str) -> str:
    return dst[0].upper() + dst[1:] if src[:1].isupper() else dst


def _reword_words(prose: str) -> str:
    return _PHRASE_RE.sub(lambda m: _match_case(m.group(0), _PHRASE[m.group(0).lower()]), prose)


def reword_prose(text: str) -> str:
    """``text`` with its prose reworded and its math, diagrams, LaTeX commands and numbers untouched."""
    parts = _KEEP.split(text)
    out = "".join(p if i % 2 else _reword_words(p) for i, p in enumerate(parts))
    return _instruction(out)


def _instruction(text: str) -> str:
    """A text that opens with a question ("What is ...?") opens with an instruction ("Find ....")."""
    for pattern, replacement in _OPENINGS:
        m = pattern.match(text)
        if m:
            rest = text[m.end() :]
            q = rest.find("?")
            if q >= 0 and "$" not in rest[q : q + 1]:
                rest = rest[:q] + "." + rest[q + 1 :]
            return replacement + rest
    return text


_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def _reword_problem(problem: str, variant: int) -> str:
    """A lead-in, then the problem reworded; on every other variant, what is asked (the last sentence)
    comes first and the facts after it, as people often restate a problem."""
    sentences = [reword_prose(s) for s in _SENTENCE.split(problem.strip())]
    if variant % 2:
        sentences = [_condition_last(s) for s in sentences]
    elif len(sentences) > 1 and "[asy]" not in sentences[-1]:
        first = sentences[0]
        sentences = [sentences[-1], "Here, " + first[0].lower() + first[1:], *sentences[1:-1]]
        if first.startswith("$") or first[:2].isupper():  # math, or an acronym, keep their case
            sentences[1] = "Here, " + first
    return _LEAD_INS[variant % len(_LEAD_INS)] + " ".join(sentences)


_CONDITION = re.compile(r"^(If|When|Given that|Knowing that|Assuming that) ")


def _condition_last(sentence: str) -> str:
    """ "If A, B?" as "B, if A?" (the first comma outside math ends the condition)."""
    m = _CONDITION.match(sentence)
    if not m:
        return sentence
    depth = 0
    for i, c in enumerate(sentence):
        depth ^= c == "$"
        if c == "," and not depth and i > m.end():
            cond, rest = sentence[m.end() : i], sentence[i + 1 :].strip()
            if not rest or rest.startswith("$"):
                return sentence
            end = rest[-1] if rest[-1] in ".?!" else ""
            body = rest[:-1] if end else rest
            return f"{body[0].upper()}{body[1:]}, {m.group(1).lower()} {cond}{end}"
    return sentence


_ANSWER_PROMPT = re.compile(
    r"Original problem:\s*\n(?P<problem>.*?)\n\s*Reference solution:\s*\n(?P<solution>.*?)\n\s*"
    r"Reworded problem:\s*\n(?P<question>.*)",
    re.S,
)
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")


def _unbox(text: str) -> str:
    """``text`` with every ``\\boxed{X}`` written as ``X`` (the final answer is boxed once, at the end)."""
    out, i = [], 0
    for m in _BOX.finditer(text):
        if m.start() < i:
            continue
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        if depth:
            break
        out += [text[i : m.start()], text[m.end() : j - 1]]
        i = j
    return "".join(out) + text[i:]


def _solution(question: str, solution: str, variant: int) -> str:
    from .answers import extract_boxed

    answer = extract_boxed(solution)
    body = reword_prose(_unbox(solution.strip()))
    ending = f"The answer is $\\boxed{{{answer}}}$." if answer is not None else "I could not find the answer."
    opening = ["We solve the problem as stated", "Restating the problem", "The problem reads"][variant % 3]
    return f"{opening}: {question.strip()}\n\n{body}\n\n{ending}"


class FakeMathModel:
    """A handler for :class:`synthmath.testing.FakeOpenAIServer` (or ``synthmath fake-server``) that
    rewords and solves by rule (see the module's description). Stateless and deterministic: the reply
    depends on the request only; the ``n`` choices of one request differ in their lead-ins."""

    def __call__(self, body: dict[str, Any]) -> Any:
        n = int(body.get("n") or 1)
        last = str(body["messages"][-1]["content"])
        start = int(body.get("seed") or 0)
        m = _ANSWER_PROMPT.search(last)
        if m:
            texts = [_solution(m["question"], m["solution"], start + i) for i in range(n)]
        elif self._asks_to_solve(body):
            texts = ["This model rewords problems and rewrites given solutions; it cannot solve one."] * n
        else:
            texts = [f"Rewritten problem: {_reword_problem(last, start + i)}" for i in range(n)]
        return Reply([*texts])

    @staticmethod
    def _asks_to_solve(body: dict[str, Any]) -> bool:
        system = next((str(m["content"]) for m in body["messages"] if m.get("role") == "system"), "")
        return "you solve" in system.lower()
