"""Shared fixtures: real data from ../shared/corpora, read in place."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline.config import find_shared


@pytest.fixture(scope="session")
def corpora() -> Path:
    shared = find_shared()
    if shared is None:
        pytest.fail("../shared/corpora not found: the tests read the real data in place")
    return shared / "corpora"


@pytest.fixture(scope="session")
def press_by_id(corpora: Path) -> dict[str, dict]:
    """All of press.jsonl.gz by id (about 60k articles; loaded once per session)."""
    out = {}
    with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out[rec["id"]] = rec
    return out


@pytest.fixture(scope="session")
def seed_labels(corpora: Path) -> list[dict]:
    with open(corpora / "labels" / "seed.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def store(tmp_path):
    from pipeline.store import Store
    s = Store(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.close()
