"""Opt-in: the output files go straight into TRL's SFTTrainer and DPOTrainer, no reshaping.

Needs trl (and torch) installed and a small causal LM on disk:

    SYNTHMATH_TEST_TINY_MODEL=/tmp/smollm2-hf pytest tests/test_trl.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthmath.cli import main
from synthmath.testing import FakeOpenAIServer

MODEL = os.environ.get("SYNTHMATH_TEST_TINY_MODEL")
pytestmark = pytest.mark.skipif(not MODEL, reason="set SYNTHMATH_TEST_TINY_MODEL to a small local model")


def build(kind: str, out: Path, server: FakeOpenAIServer, seeds: Path, *extra: str) -> None:
    args = [
        f"build-{kind}",
        "--seeds",
        str(seeds),
        "--limit",
        "6",
        "--base-url",
        server.url,
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, [*args, "--no-progress", *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("chat", [False, True])
def test_dpo_trainer_takes_dpo_jsonl(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path, chat: bool
) -> None:
    trl = pytest.importorskip("trl")
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer

    build("dpo", tmp_path / "dpo", server, math_seeds_file, *(["--chat"] if chat else []))
    ds = datasets.load_dataset("json", data_files=str(tmp_path / "dpo" / "dpo.jsonl"), split="train")
    model = AutoModelForCausalLM.from_pretrained(MODEL)
    tok = AutoTokenizer.from_pretrained(MODEL)
    args = trl.DPOConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        per_device_train_batch_size=2,
        max_length=512,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
    )
    trainer = trl.DPOTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    result = trainer.train()
    assert result.global_step == 2


@pytest.mark.filterwarnings("ignore")
def test_sft_trainer_takes_instruct_jsonl(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    trl = pytest.importorskip("trl")
    import datasets

    build("instruct", tmp_path / "sft", server, math_seeds_file)
    ds = datasets.load_dataset("json", data_files=str(tmp_path / "sft" / "instruct.jsonl"), split="train")
    args = trl.SFTConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        per_device_train_batch_size=2,
        max_length=512,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
    )
    trainer = trl.SFTTrainer(model=MODEL, args=args, train_dataset=ds)
    result = trainer.train()
    assert result.global_step == 2
