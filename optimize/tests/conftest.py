import copy
import os
import sys

# optimize/ on the path even when pytest runs with another folder's config (several test
# folders in one run take the first argument's pytest.ini).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import pytest  # noqa: E402
import torch  # noqa: E402

import tiny  # noqa: E402

# Two threads at most: CI shares two cores with other work; determinism over speed.
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


@pytest.fixture(scope="session")
def tok():
    return tiny.tokenizer()


@pytest.fixture(scope="session")
def data():
    return {"train": tiny.sentences(800, seed=1), "eval": tiny.sentences(200, seed=2)}


@pytest.fixture(scope="session")
def _teacher(tok, data):
    return tiny.train_on_labels(tiny.distilbert(seed=0), tok, data["train"], steps=150, seed=0)


@pytest.fixture
def teacher(_teacher):
    """The trained tiny teacher; a copy, so a test may change it."""
    return copy.deepcopy(_teacher)
