"""The model registry: versioned model folders under ``models/`` with their cards.

``models/<version>/`` holds ``model.joblib`` and ``card.json``;
``models/registry.json`` holds ``{"active": version | null, "history": [...]}``
where history is append-only (every promote and rollback is a new entry).
``active_version()`` reads one small JSON file (cached by mtime), so the
process step can call it for every batch.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

REGISTRY_FILE = "registry.json"


class RegistryError(RuntimeError):
    """A registry operation that cannot be done (nothing to roll back, a version's folder gone)."""


def _dir(models_dir: str | Path | None) -> Path:
    if models_dir is None:
        from .config import Config
        models_dir = Config.load().models_dir
    return Path(models_dir)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


_cache: dict[Path, tuple[float, dict[str, Any]]] = {}


def _read(models_dir: str | Path | None) -> dict[str, Any]:
    p = _dir(models_dir) / REGISTRY_FILE
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError:
        return {"active": None, "history": []}
    hit = _cache.get(p)
    if hit and hit[0] == mtime:
        return hit[1]
    state = json.loads(p.read_text(encoding="utf-8"))
    state.setdefault("active", None)
    state.setdefault("history", [])
    _cache[p] = (mtime, state)
    return state


def _write(models_dir: str | Path | None, state: dict[str, Any]) -> None:
    d = _dir(models_dir)
    d.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".registry-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f, ensure_ascii=False, indent=2)
        f.write("\n")
    os.replace(tmp, d / REGISTRY_FILE)
    _cache.pop(d / REGISTRY_FILE, None)


def _card(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / "card.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def list_models(models_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every version folder with a summary of its card, oldest first; ``active`` marks the promoted one."""
    d = _dir(models_dir)
    active = active_version(d)
    out = []
    if not d.is_dir():
        return out
    for p in sorted(d.iterdir()):
        if not (p.is_dir() and (p / "model.joblib").is_file()):
            continue
        c = _card(p)
        nat = (c.get("metrics") or {}).get("natural") or {}
        th = c.get("thresholds") or {}
        out.append({"version": p.name, "created": c.get("created"), "n_records": c.get("n_records"),
                    "pr_auc": nat.get("pr_auc"), "threshold": th.get("label2"),
                    "label_counts": c.get("label_counts"), "pr_auc_natural": nat.get("pr_auc"),
                    "precision": nat.get("precision"), "recall": nat.get("recall"),
                    "thresholds": {k: v for k, v in (c.get("thresholds") or {}).items() if k.startswith("label")},
                    "active": p.name == active, "path": str(p)})
    out.sort(key=lambda m: (m["created"] or "", m["version"]))
    return out


def model_path(version: str, models_dir: str | Path | None = None) -> Path:
    p = _dir(models_dir) / version
    if not (p / "model.joblib").is_file():
        known = ", ".join(m["version"] for m in list_models(models_dir)) or "none"
        raise KeyError(f"no model version {version!r} in {_dir(models_dir)} (known: {known})")
    return p


def show(version: str | None = None, models_dir: str | Path | None = None) -> dict[str, Any]:
    """The card of ``version`` (default: the active one)."""
    version = version or active_version(models_dir)
    if version is None:
        raise KeyError("no version given and none is active")
    card = _card(model_path(version, models_dir))
    card.setdefault("version", version)
    card["active"] = version == active_version(models_dir)
    return card


def active_version(models_dir: str | Path | None = None) -> str | None:
    """The promoted version, or None (then the bundled default model is used)."""
    return _read(models_dir).get("active")


def active_path(models_dir: str | Path | None = None) -> Path | None:
    v = active_version(models_dir)
    if v is None:
        return None
    p = _dir(models_dir) / v
    return p if (p / "model.joblib").is_file() else None


def promote(version: str, models_dir: str | Path | None = None, user: str | None = None,
            note: str | None = None) -> dict[str, Any]:
    """Make ``version`` the active model (appends to history). Returns the new state."""
    model_path(version, models_dir)  # raises if unknown
    state = dict(_read(models_dir))
    prev = state.get("active")
    state["history"] = list(state.get("history", [])) + [
        {"at": _now(), "action": "promote", "version": version, "previous": prev,
         "user": user or os.environ.get("USER", ""), "note": note}]
    state["active"] = version
    _write(models_dir, state)
    return state


def rollback(models_dir: str | Path | None = None, user: str | None = None) -> str | None:
    """Return to the version active before the current one (appends to history).

    Returns the version now active (None = the bundled default)."""
    state = dict(_read(models_dir))
    cur = state.get("active")
    if cur is None:
        raise RegistryError("nothing to roll back: no active version")
    # replay the history as a stack: promote pushes, rollback pops
    stack: list[str] = []
    for h in state.get("history", []):
        if h.get("action") == "promote":
            stack.append(h["version"])
        elif h.get("action") == "rollback" and stack:
            stack.pop()
    target = stack[-2] if len(stack) >= 2 else None
    if target is not None and not (_dir(models_dir) / target / "model.joblib").is_file():
        raise RegistryError(f"cannot roll back to {target}: its folder is gone")
    state["history"] = list(state.get("history", [])) + [
        {"at": _now(), "action": "rollback", "version": target, "previous": cur,
         "user": user or os.environ.get("USER", "")}]
    state["active"] = target
    _write(models_dir, state)
    return target


def history(models_dir: str | Path | None = None) -> list[dict[str, Any]]:
    return list(_read(models_dir).get("history", []))
