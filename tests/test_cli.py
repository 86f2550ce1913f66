"""The thin CLI: verbs present, global options before the verb, usage errors exit 2."""
import json

from click.testing import CliRunner

from pipeline.cli import main


def test_help_lists_every_verb():
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    for verb in ("crawl", "sources", "ingest", "process", "run", "score", "weekly", "serve", "users",
                 "train", "evaluate", "models", "export"):
        assert verb in res.output


def test_unknown_verb_and_missing_config_are_usage_errors(tmp_path):
    assert CliRunner().invoke(main, ["frobnicate"]).exit_code == 2
    res = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "models", "list"])
    assert res.exit_code == 2 and "none.toml" in res.output


def test_bad_config_names_the_file(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("db = [unclosed", encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(cfg), "models", "list"])
    assert res.exit_code == 2 and "bad.toml" in res.output


def test_export_articles_round_trip(tmp_path):
    from pipeline.store import Store
    db = tmp_path / "s.db"
    s = Store(f"sqlite:///{db}")
    s.upsert_article({"uid": "http://127.0.0.1/a", "url": "http://127.0.0.1/a", "outlet": "Báo A",
                      "title": "Anh A cứu người", "lead": "Sapo", "text": "Thân bài.",
                      "published": "2026-11-18T08:00:00+07:00"})
    s.upsert_article({"uid": "report:abc#row 3", "kind": "report", "title": "Đề nghị khen thưởng",
                      "text": "Thành tích", "source_file": "ds.xlsx", "location": "Sheet1!row 3"})
    s.close()
    out = tmp_path / "a.jsonl"
    res = CliRunner().invoke(main, ["--db", f"sqlite:///{db}", "export", "articles", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2
    assert rows[0]["title"] == "Anh A cứu người" and rows[0]["story"] == rows[0]["id"]
    assert rows[0]["published"] == "2026-11-18T08:00:00+07:00"
    assert rows[1]["source_file"] == "ds.xlsx" and rows[1]["location"] == "Sheet1!row 3"
    assert {"id", "url", "outlet", "title", "lead", "text", "published", "story"} <= set(rows[0])


def test_run_lock_refuses_a_second_run(tmp_path):
    import pytest
    from pipeline.run import AlreadyRunning, run_lock
    lock = tmp_path / "x.lock"
    with run_lock(lock):
        with pytest.raises(AlreadyRunning):
            with run_lock(lock):
                pass
    with run_lock(lock):  # released after the first
        pass


def test_crawl_and_sources_check_against_the_demo_server(tmp_path):
    from pipeline.demo import demo_sources_file, serve_demo
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with serve_demo() as base:
        cat = demo_sources_file(base, tmp_path)
        res = CliRunner().invoke(main, ["--db", db, "sources", "check", "--sources", str(cat)])
        assert res.exit_code == 0, res.output
        assert "thudongaymoi" in res.output and "ok" in res.output
        res = CliRunner().invoke(main, ["--db", db, "crawl", "--sources", str(cat)])
        assert res.exit_code == 0, res.output
        assert "TOTAL" in res.output
        # A catalogue whose only feed is missing: the crawl says so and exits 1.
        bad = tmp_path / "bad.toml"
        bad.write_text(f'[[source]]\nname = "missing"\noutlet = "X"\nkind = "rss"\nurl = "{base}/no-such-feed.xml"\n'
                       'min_interval = 0\n', encoding="utf-8")
        res = CliRunner().invoke(main, ["--db", db, "crawl", "--sources", str(bad)])
        assert res.exit_code == 1, res.output
        assert "404" in res.output


def test_ingest_batch_goes_on_after_a_bad_file_and_records_reach_export(tmp_path, corpora):
    import shutil
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpora / "reports" / "totrinh__1668416671totrinhdenghi.xlsx", inbox / "ds.xlsx")
    (inbox / "rong.docx").write_bytes(b"")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    res = CliRunner().invoke(main, ["--db", db, "ingest", "--no-ocr", str(inbox)])
    assert res.exit_code == 1, res.output  # one file failed, the other was taken in
    assert "rong.docx" in res.output
    out = tmp_path / "a.jsonl"
    res = CliRunner().invoke(main, ["--db", db, "export", "articles", "--kind", "report", "-o", str(out)])
    assert res.exit_code == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(r["source_file"].endswith("ds.xlsx") and "row" in r["location"] for r in rows)


def test_models_rerank_passes_its_settings_and_rejects_bad_ones(tmp_path, monkeypatch):
    import pipeline.train
    seen = {}

    def fake(version, **kw):
        seen.update(kw, version=version)
        return {"version": "v2", "metrics": {}, "thresholds": {}, "reranker": {}, "path": "p"}
    monkeypatch.setattr(pipeline.train, "rerank_cli", fake)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'db = "sqlite:///{tmp_path / "s.db"}"\nmodels_dir = "{tmp_path / "models"}"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(cfg), "models", "rerank", "v1", "--top-layers", "6",
                                    "--no-decisions"])
    assert res.exit_code == 0, res.output
    assert seen["version"] == "v1" and seen["params"] == {"top_layers": 6} and seen["store"] is None
    assert json.loads(res.stdout)["version"] == "v2"
    res = CliRunner().invoke(main, ["--config", str(cfg), "models", "rerank", "v1"])
    assert res.exit_code == 0 and seen["params"] == {} and seen["store"] is not None
    res = CliRunner().invoke(main, ["--config", str(cfg), "models", "rerank", "v1", "--window", "key"])
    assert res.exit_code == 0 and seen["params"] == {"window": "key"}
    assert CliRunner().invoke(main, ["--config", str(cfg), "models", "rerank", "v1", "--top-layers", "13"]).exit_code == 2
    assert CliRunner().invoke(main, ["--config", str(cfg), "models", "rerank", "v1", "--window", "tail"]).exit_code == 2
