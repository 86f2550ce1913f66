"""Configuration: one TOML file for what is not a source, plus path discovery.

Everything has a default so that ``nguoitot`` runs with no configuration at
all on the embedded default (SQLite file in ``./var``, bundled model).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"
BUNDLED_MODEL_DIR = DATA_DIR / "model"


def find_shared() -> Path | None:
    """Locate ``../shared`` (the corpora) from the repo, the CWD or $NGUOITOT_SHARED."""
    env = os.environ.get("NGUOITOT_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO_DIR.parent / "shared", Path.cwd().parent / "shared", Path.cwd() / "shared"]
    for c in candidates:
        if (c / "corpora").is_dir():
            return c.resolve()
    return None


def shared_corpora() -> Path:
    s = find_shared()
    if s is None:
        raise FileNotFoundError(
            "cannot find the shared corpora: put ../shared beside the repository "
            "or set NGUOITOT_SHARED to its path")
    return s / "corpora"


@dataclass
class Config:
    db: str = "sqlite:///var/nguoitot.db"
    out_dir: str = "out"
    models_dir: str = str(REPO_DIR / "models")
    sources: str = str(REPO_DIR / "corpora" / "sources.toml")
    home_area: str = "Hà Nội"
    report_inbox: str | None = None
    smtp: dict[str, Any] = field(default_factory=dict)
    award_endpoint: dict[str, Any] = field(default_factory=dict)
    embedding: dict[str, Any] = field(default_factory=dict)
    crawl: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, **overrides: Any) -> "Config":
        data: dict[str, Any] = {}
        if path is None and os.environ.get("NGUOITOT_CONFIG"):
            path = os.environ["NGUOITOT_CONFIG"]
        if path is not None:
            p = Path(path)
            if not p.is_file():
                raise FileNotFoundError(f"configuration file not found: {p}")
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise ValueError(f"{p}: invalid TOML: {e}") from e
        known = {f for f in cls.__dataclass_fields__ if f not in ("raw", "path")}
        kwargs = {k: v for k, v in data.items() if k in known}
        if os.environ.get("NGUOITOT_DB"):
            kwargs["db"] = os.environ["NGUOITOT_DB"]
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        cfg = cls(**kwargs)
        cfg.raw = data
        cfg.path = str(path) if path else None
        return cfg
