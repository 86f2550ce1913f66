"""The model registry: list, show, promote, rollback, append-only history."""
from __future__ import annotations

import json
import shutil

import pytest

from pipeline import registry
from pipeline.config import BUNDLED_MODEL_DIR


def _fake_versions(tmp_path, names):
    for i, n in enumerate(names):
        d = tmp_path / n
        d.mkdir()
        (d / "model.joblib").write_bytes(b"x")
        (d / "card.json").write_text(json.dumps({"version": n, "created": f"2026-12-0{i + 1}T00:00:00+00:00",
                                                 "thresholds": {"label2": 0.5, "label1": 0.2},
                                                 "metrics": {"natural": {"pr_auc": 0.8 + i / 100}}}))
    return tmp_path


def test_promote_rollback_stack_and_history(tmp_path):
    d = _fake_versions(tmp_path, ["2026-12-01-aaaaaaaa", "2026-12-02-bbbbbbbb", "2026-12-03-cccccccc"])
    assert registry.active_version(d) is None
    assert [m["version"] for m in registry.list_models(d)] == ["2026-12-01-aaaaaaaa", "2026-12-02-bbbbbbbb",
                                                               "2026-12-03-cccccccc"]
    registry.promote("2026-12-01-aaaaaaaa", d)
    registry.promote("2026-12-02-bbbbbbbb", d)
    registry.promote("2026-12-03-cccccccc", d)
    assert registry.active_version(d) == "2026-12-03-cccccccc"
    assert [m["active"] for m in registry.list_models(d)] == [False, False, True]
    registry.rollback(d)
    assert registry.active_version(d) == "2026-12-02-bbbbbbbb"
    registry.rollback(d)
    assert registry.active_version(d) == "2026-12-01-aaaaaaaa"
    registry.rollback(d)
    assert registry.active_version(d) is None  # back to the bundled default
    with pytest.raises(RuntimeError):
        registry.rollback(d)
    hist = registry.history(d)
    assert [h["action"] for h in hist] == ["promote"] * 3 + ["rollback"] * 3  # append-only
    assert registry.show("2026-12-02-bbbbbbbb", d)["metrics"]["natural"]["pr_auc"] == 0.81


def test_unknown_version_is_refused(tmp_path):
    d = _fake_versions(tmp_path, ["2026-12-01-aaaaaaaa"])
    with pytest.raises(KeyError, match="2026-12-01-aaaaaaaa"):
        registry.promote("nope", d)
    assert registry.active_version(d) is None
    assert not (d / "registry.json").exists()


def test_load_model_follows_the_promoted_version(tmp_path, monkeypatch):
    from pipeline.classify import load_model
    v = "2026-12-01-promoted"
    shutil.copytree(BUNDLED_MODEL_DIR, tmp_path / v)
    card = json.loads((tmp_path / v / "card.json").read_text())
    card["version"] = v
    (tmp_path / v / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("NGUOITOT_CONFIG", str(_config(tmp_path)))
    bundled = load_model(BUNDLED_MODEL_DIR)
    assert load_model().version == bundled.version  # nothing promoted: the bundled default
    registry.promote(v, tmp_path)
    assert load_model().version == v
    registry.rollback(tmp_path)
    assert load_model().version == bundled.version


def _config(tmp_path):
    p = tmp_path / "nguoitot.toml"
    p.write_text(f'models_dir = "{tmp_path}"\n')
    return p
