"""Tiny Llama models built on the spot, for tests and local runs without any hub.

A byte-level BPE tokenizer trained on the smoke data plus some plain English, and a small
``LlamaConfig`` model saved as safetensors only, as a submitter's repository would be. With
``train_steps`` the model memorises the smoke answers, so a run can tell a model that knows
something from a random one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localdev.smoke import smoke_documents_text, smoke_training_texts

SPECIAL_TOKENS = {
    "unk_token": "<unk>",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
}
VOCAB_SIZE = 512
# Room for few-shot prompts; RoPE positions cost no parameters.
MAX_POSITION_EMBEDDINGS = 2048

GENERIC_ENGLISH = """\
The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with a
single step. Scientists study the natural world by asking questions, making observations and
testing ideas with experiments. Water covers most of the surface of the Earth, and the air
around us is mostly nitrogen and oxygen. Children learn to read, write and count at school.
How many apples are left if you eat two of five? The answer is three. People build houses,
roads and bridges; they grow food on farms and sell it in shops and markets. The weather
changes from day to day: some days are sunny and warm, others are cold, windy or rainy.
"""


def training_corpus() -> list[str]:
    """The text the tokenizer learns its merges from.

    Every answer choice, not only the right ones: merges learned from right answers alone
    would make them fewer tokens per byte, and an untrained model would then beat chance on
    length-normalised accuracy (acc_norm).
    """
    return smoke_documents_text() + GENERIC_ENGLISH.splitlines()


def build_tokenizer(dest: Path) -> None:
    """Train a byte-level BPE tokenizer (vocab ~512) and save it with ``save_pretrained``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    # No prefix space: lm-eval scores " answer" after "Answer:", like GPT-2 style tokenizers.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_corpus(), trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)
    dest.mkdir(parents=True, exist_ok=True)
    wrapped.save_pretrained(dest)


def build_tiny_model(
    dest: Path,
    *,
    seed: int,
    train_steps: int = 0,
    hidden_size: int = 64,
    num_layers: int = 2,
    extra_config: dict[str, Any] | None = None,
) -> Path:
    """Build a Llama model in ``dest`` (safetensors + tokenizer) and return ``dest``.

    Random weights from ``seed``; with ``train_steps > 0`` it is then trained on the smoke
    answers. The same arguments give the same weights.
    """
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    build_tokenizer(dest)
    tokenizer = AutoTokenizer.from_pretrained(dest)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=MAX_POSITION_EMBEDDINGS,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **(extra_config or {}),
    )
    with _single_thread():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).to(torch.float32)
        if train_steps > 0:
            _train(model, tokenizer, steps=train_steps)
    model.eval()
    model.save_pretrained(dest, safe_serialization=True)
    return dest


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    # One thread makes CPU float sums run in one order, so a seed gives the same weights.
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _train(model: Any, tokenizer: Any, *, steps: int) -> None:
    """Full-batch AdamW on the smoke answers, formatted exactly like the task prompts."""
    import torch

    # lm-eval encodes prompts without a BOS token here, so neither do we; EOS teaches the
    # model to stop after the answer.
    encoded = [
        tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        for text in smoke_training_texts()
    ]
    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), tokenizer.pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    for row, ids in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
    labels = input_ids.masked_fill(attention_mask == 0, -100)

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
