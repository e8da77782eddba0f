"""A tiny DistilBERT/BERT and a synthetic sentiment task, built locally (nothing downloaded)."""
from __future__ import annotations

import random

import torch
from transformers import BertConfig, BertForSequenceClassification, DistilBertConfig, \
    DistilBertForSequenceClassification, DistilBertTokenizer, RobertaConfig, RobertaForSequenceClassification

POSITIVE = ["good", "great", "fine", "superb", "lovely", "fun", "moving", "smart", "warm", "brilliant"]
NEGATIVE = ["bad", "awful", "dull", "boring", "weak", "messy", "flat", "silly", "cold", "tedious"]
NEUTRAL = ["the", "a", "movie", "film", "plot", "actor", "story", "scene", "is", "was", "and", "but",
           "very", "quite", "this", "it", "of", "with", "script", "music"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB = SPECIAL + POSITIVE + NEGATIVE + NEUTRAL
MAX_LEN = 24


def tokenizer() -> DistilBertTokenizer:
    return DistilBertTokenizer(vocab={w: i for i, w in enumerate(VOCAB)}, do_lower_case=True,
                               model_max_length=MAX_LEN)


def sentences(n: int, seed: int) -> list[tuple[str, int]]:
    """Label 1 when positive words outnumber negative ones, else 0; ties never happen."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.randint(0, 1)
        major = rng.randint(1, 3)
        minor = rng.randint(0, major - 1)
        mine, other = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        words = [rng.choice(mine) for _ in range(major)] + [rng.choice(other) for _ in range(minor)]
        words += [rng.choice(NEUTRAL) for _ in range(rng.randint(2, 8))]
        rng.shuffle(words)
        out.append((" ".join(words), label))
    return out


def distilbert(seed: int, dim: int = 32, layers: int = 2, heads: int = 4, ffn: int = 64):
    torch.manual_seed(seed)
    cfg = DistilBertConfig(vocab_size=len(VOCAB), dim=dim, n_layers=layers, n_heads=heads, hidden_dim=ffn,
                           max_position_embeddings=MAX_LEN + 8, num_labels=2, pad_token_id=0,
                           id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})
    return DistilBertForSequenceClassification(cfg).eval()


def bert(seed: int, dim: int = 32, layers: int = 2, heads: int = 4, ffn: int = 64):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(VOCAB), hidden_size=dim, num_hidden_layers=layers, num_attention_heads=heads,
                     intermediate_size=ffn, max_position_embeddings=MAX_LEN + 8, num_labels=2, pad_token_id=0)
    return BertForSequenceClassification(cfg).eval()


def roberta(seed: int, dim: int = 32, layers: int = 2, heads: int = 4, ffn: int = 64):
    torch.manual_seed(seed)
    # RoBERTa numbers positions after its padding id (1 here, this vocab's [UNK]: unused in tests).
    cfg = RobertaConfig(vocab_size=len(VOCAB), hidden_size=dim, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=ffn, max_position_embeddings=MAX_LEN + 4, num_labels=2, pad_token_id=1)
    return RobertaForSequenceClassification(cfg).eval()


def train_on_labels(model, tok, examples, steps: int, seed: int, lr: float = 3e-3):
    """Plain fine-tuning so the tiny teacher has learnt the task (a teacher worth distilling)."""
    from mlserve_optimize.data import batches, encode  # noqa: PLC0415

    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    done, epoch = 0, 0
    while done < steps:
        for _, texts, labels in batches(examples, 32, shuffle=True, seed=seed + epoch):
            loss = torch.nn.functional.cross_entropy(model(**encode(tok, texts, MAX_LEN)).logits, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done >= steps:
                break
        epoch += 1
    return model.eval()
