"""``nguoitot [--db URL] [--config FILE] VERB …`` — parses arguments and calls the library.

Exit codes: 0 everything worked; 1 some items failed (bad lines, failed
sources or files; the rest was done); 2 usage error; 3 another run holds the
lock; 4 a fatal error stopped the command (message on stderr).
"""
from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .registry import RegistryError

EXIT_PARTIAL, EXIT_LOCKED, EXIT_FATAL = 1, 3, 4


class Ctx:
    def __init__(self, db: str | None, config: str | None, progress: bool):
        from .config import Config
        self.cfg = Config.load(config, db=db)
        self.progress = progress
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from .store import Store
            self._store = Store(self.cfg.db)
        return self._store


def fatal_errors(f: Callable) -> Callable:
    """Known failures end with a one-line message and exit code 4, not a traceback."""
    @functools.wraps(f)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return f(*a, **kw)
        except (FileNotFoundError, ValueError, PermissionError, ImportError, OSError) as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_FATAL)
        except KeyError as e:  # an unknown version in the registry: its message, without KeyError's quotes
            click.echo(f"error: {e.args[0] if e.args else e}", err=True)
            sys.exit(EXIT_FATAL)
        except RegistryError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_FATAL)
    return wrapper


def echo_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        click.echo("(nothing)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    click.echo("  ".join(c.ljust(widths[c]) for c in columns))
    click.echo("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        click.echo("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL", help="Database URL or SQLite path (default: sqlite:///var/nguoitot.db).")
@click.option("--config", "config", metavar="FILE", type=click.Path(dir_okay=False),
              help="TOML configuration (SMTP, award endpoint, home area, report inbox…).")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.version_option(__version__, prog_name="nguoitot")
@click.pass_context
def main(ctx: click.Context, db: str | None, config: str | None, verbose: int, quiet: bool) -> None:
    """Find 'Người tốt – Việc tốt' in the Vietnamese press and in unit reports."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        ctx.obj = Ctx(db, config, progress=not quiet and sys.stderr.isatty())
    except (FileNotFoundError, ValueError) as e:
        raise click.UsageError(str(e)) from e


# -- collect ---------------------------------------------------------------
def _print_crawl_report(report: Any) -> bool:
    """Print the per-source table (new, unchanged, failed and why); True when something failed."""
    click.echo(report.format_table())
    return bool(report.any_failed)


@main.command()
@click.option("--sources", "sources_file", type=click.Path(exists=True, dir_okay=False),
              help="Catalogue to crawl instead of the default corpora/sources.toml.")
@click.pass_obj
@fatal_errors
def crawl(obj: Ctx, sources_file: str | None) -> None:
    """Collect new articles from the feeds and sitemaps of a catalogue."""
    from .crawl import crawl as do_crawl
    from .sources import load_sources
    sources = [s for s in load_sources(sources_file or obj.cfg.sources) if s.kind != "inbox"]
    report = do_crawl(obj.store, sources, progress=obj.progress, fetch_options=obj.cfg.crawl or None)
    if _print_crawl_report(report):
        sys.exit(EXIT_PARTIAL)


@main.group()
def sources() -> None:
    """The source catalogue."""


@sources.command("check")
@click.option("--sources", "sources_file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
@fatal_errors
def sources_check(obj: Ctx, sources_file: str | None) -> None:
    """Report which catalogue feeds answer and parse."""
    from .crawl import check_sources
    from .sources import load_sources
    rows = check_sources(load_sources(sources_file or obj.cfg.sources), fetch_options=obj.cfg.crawl or None)
    echo_table(rows, ["source", "enabled", "status", "http", "entries", "newest", "reason"])
    if any(r["enabled"] and not r["ok"] for r in rows):  # disabled entries may fail by design
        sys.exit(EXIT_PARTIAL)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--no-ocr", is_flag=True, help="Do not OCR scanned pages (they are reported as unread).")
@click.option("--force", is_flag=True, help="Read stored files again (after a reader upgrade).")
@click.pass_obj
@fatal_errors
def ingest(obj: Ctx, paths: tuple[str, ...], no_ocr: bool, force: bool) -> None:
    """Take in unit reports and nomination lists (docx, doc, pdf, xlsx, xls, txt, html)."""
    from .reports import ingest as do_ingest
    report = do_ingest(obj.store, list(paths), progress=obj.progress, ocr="never" if no_ocr else "auto",
                       force=force)
    click.echo(report.format_table() if hasattr(report, "format_table") else str(report))
    if getattr(report, "any_failed", False):
        sys.exit(EXIT_PARTIAL)


# -- understand, flag, organise -----------------------------------------
@main.command("process")
@click.option("--week", "weeks", multiple=True, help="Only these ISO weeks (YYYY-Www).")
@click.pass_obj
@fatal_errors
def process_cmd(obj: Ctx, weeks: tuple[str, ...]) -> None:
    """Group stories, score what the active model has not scored, build candidates."""
    from .embed import get_embedder
    from .process import process
    stats = process(obj.store, weeks=list(weeks) or None, progress=obj.progress,
                    embedder=get_embedder(obj.cfg.embedding or None), models_dir=obj.cfg.models_dir)
    click.echo(json.dumps(stats, ensure_ascii=False, indent=1, default=str))


@main.command()
@click.argument("in_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--output", "out_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write one JSON line per input line.")
@click.option("--model", "model_path", type=click.Path(exists=True, file_okay=False),
              help="A model folder (default: the promoted one, else the bundled one).")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: the number of CPU cores).")
@click.option("--stage1-only", is_flag=True,
              help="Skip a two-stage model's encoder (faster, no torch; stage 1's own thresholds).")
@click.pass_obj
@fatal_errors
def score(obj: Ctx, in_path: str, out_path: str, model_path: str | None, jobs: int | None,
          stage1_only: bool) -> None:
    """Score articles from JSON Lines (the batch-scoring contract; no database needed)."""
    import os

    from .classify import load_model
    from .scoring import score_file
    model = load_model(model_path, rerank=not stage1_only, models_dir=obj.cfg.models_dir)
    summary = score_file(in_path, out_path, model, progress=obj.progress,
                         jobs=jobs or os.cpu_count() or 1)
    click.echo(f"{summary.scored} scored, {summary.failed} failed", err=True)
    sys.exit(summary.exit_code)


# -- deliver ----------------------------------------------------------------
@main.command()
@click.option("--week", help="ISO week YYYY-Www (default: the current week).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: out/).")
@click.option("--send", is_flag=True, help="Mail the list through the configured SMTP server.")
@click.option("--to", "to", multiple=True, help="Recipient (default: smtp.to in the configuration).")
@click.pass_obj
@fatal_errors
def weekly(obj: Ctx, week: str | None, out_dir: str | None, send: bool, to: tuple[str, ...]) -> None:
    """Write the week's candidate list as HTML, XLSX and CSV."""
    from .weekly import current_week, render_weekly, send_weekly
    week = week or current_week()
    paths = render_weekly(obj.store, week, Path(out_dir or obj.cfg.out_dir))
    for kind, p in paths.items():
        click.echo(f"{kind}: {p}")
    if send:
        recipients = list(to) or list(obj.cfg.smtp.get("to", []))
        if not obj.cfg.smtp or not recipients:
            raise click.UsageError("--send needs an [smtp] section with host and to= in the configuration")
        send_weekly(paths, obj.cfg.smtp, recipients)
        click.echo(f"sent to {', '.join(recipients)}")


@main.command()
@click.option("--demo", is_flag=True, help="Crawl the project's fictional demo outlets served on 127.0.0.1.")
@click.option("--sources", "sources_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--week", help="ISO week of the list (default: the current week).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False))
@click.pass_obj
@fatal_errors
def run(obj: Ctx, demo: bool, sources_file: str | None, week: str | None, out_dir: str | None) -> None:
    """The weekly job: crawl + inbox + process + weekly list (cron-safe: locked, resumable)."""
    import tempfile

    from .run import AlreadyRunning, lock_path_for, run as do_run
    try:
        with run_lock_ctx(lock_path_for(obj.store.url)):
            if demo:
                from .demo import demo_sources_file, serve_demo
                with serve_demo(port=None) as base, tempfile.TemporaryDirectory() as tmp:
                    click.echo(f"demo outlets served at {base}", err=True)
                    stats = do_run(obj.store, obj.cfg, sources_file=str(demo_sources_file(base, Path(tmp))),
                                   week=week, out_dir=out_dir, progress=obj.progress)
            else:
                stats = do_run(obj.store, obj.cfg, sources_file=sources_file, week=week,
                               out_dir=out_dir, progress=obj.progress)
    except AlreadyRunning as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    failed = _print_crawl_report(stats["crawl"])
    proc = stats.get("process", {})
    click.echo(f"scored {proc.get('scoring', {}).get('scored', 0)} articles with model "
               f"{proc.get('model_version')}; week {stats['week']}")
    for kind, p in stats["outputs"].items():
        click.echo(f"{kind}: {p}")
    if failed:
        sys.exit(EXIT_PARTIAL)


def run_lock_ctx(path: Path):
    from .run import run_lock
    return run_lock(path)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
@fatal_errors
def serve(obj: Ctx, host: str, port: int) -> None:
    """The review desk (web)."""
    try:
        import uvicorn
        from .web.app import create_app
    except ImportError as e:
        raise ImportError(f"the review desk needs the web extra: pip install 'nguoitot[web]' ({e})") from e
    uvicorn.run(create_app(obj.store, obj.cfg), host=host, port=port)


@main.group()
def users() -> None:
    """Review-desk accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["staff", "analyst", "admin"]))
@click.pass_obj
@fatal_errors
def users_add(obj: Ctx, name: str, role: str) -> None:
    """Add an account; the password is read from standard input."""
    from .review import add_user
    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise click.UsageError("the password needs at least 8 characters")
    add_user(obj.store, name, role, password)
    click.echo(f"added {name} ({role})")


# -- analysts ------------------------------------------------------------------
@main.command()
@click.option("--seed-labels", type=click.Path(exists=True, dir_okay=False),
              help="Default: ../shared/corpora/labels/seed.jsonl.")
@click.option("--press", type=click.Path(exists=True, dir_okay=False),
              help="Articles the labels refer to. Default: ../shared/corpora/press.jsonl.gz.")
@click.option("--labels", "extra_labels", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="More label files (JSON Lines, LABELING.md format).")
@click.option("--no-decisions", is_flag=True, help="Do not use reviewer decisions from the store.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Models folder (default: models/).")
@click.option("--promote", is_flag=True, help="Promote the new version once trained.")
@click.pass_obj
@fatal_errors
def train(obj: Ctx, seed_labels: str | None, press: str | None, extra_labels: tuple[str, ...],
          no_decisions: bool, out_dir: str | None, promote: bool) -> None:
    """Train a classifier version from labels (+ reviewer decisions) and write its card."""
    from .train import train_cli
    card = train_cli(seed_labels=seed_labels, press=press, extra_labels=list(extra_labels),
                     store=None if no_decisions else obj.store, models_dir=out_dir or obj.cfg.models_dir,
                     promote=promote, log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(card, ensure_ascii=False, indent=1, default=str))


@main.command()
@click.option("--labels", "label_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Label files to evaluate on (default: cross-validation on the seed labels).")
@click.option("--model", "model_path", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--out", "out_dir", default="out/evaluate", type=click.Path(file_okay=False),
              show_default=True)
@click.pass_obj
@fatal_errors
def evaluate(obj: Ctx, label_files: tuple[str, ...], model_path: str | None, out_dir: str) -> None:
    """Print the metrics table; write a PR curve and a confusion matrix (PNG)."""
    from .evaluate import evaluate_cli
    evaluate_cli(label_files=list(label_files), model_path=model_path, out_dir=out_dir,
                 echo=click.echo, models_dir=obj.cfg.models_dir)


@main.group()
def models() -> None:
    """The model registry (models/)."""


@models.command("list")
@click.pass_obj
@fatal_errors
def models_list(obj: Ctx) -> None:
    from .registry import list_models
    echo_table(list_models(obj.cfg.models_dir), ["version", "active", "created", "pr_auc", "threshold"])


@models.command("show")
@click.argument("version", required=False)
@click.pass_obj
@fatal_errors
def models_show(obj: Ctx, version: str | None) -> None:
    from .registry import show
    click.echo(json.dumps(show(version, obj.cfg.models_dir), ensure_ascii=False, indent=1, default=str))


@models.command("rerank")
@click.argument("version")
@click.option("--labels", "extra_labels", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="The extra label files VERSION was trained with.")
@click.option("--no-decisions", is_flag=True, help="VERSION was trained without reviewer decisions.")
@click.option("--t0", type=float, default=None, help="Stage-1 score from which the encoder re-reads (default 0.01).")
@click.option("--top-layers", type=click.IntRange(1, 12), default=None,
              help="e5 layers fine-tuned, counted from the top (default: EncoderReranker's, 3).")
@click.option("--window", type=click.Choice(["head", "key"]), default=None,
              help="What the encoder reads: the first 192 tokens (head, the default) or the title, first "
                   "sentence and the label model's most deed-like sentences (key).")
@click.option("--promote", is_flag=True, help="Promote the new version once trained.")
@click.pass_obj
@fatal_errors
def models_rerank(obj: Ctx, version: str, extra_labels: tuple[str, ...], no_decisions: bool, t0: float | None,
                  top_layers: int | None, window: str | None, promote: bool) -> None:
    """Add a fine-tuned encoder second stage to VERSION, as a new version (needs the rerank extra;
    about 1.5 hours on 2 cores)."""
    from .train import RERANK_T0, rerank_cli
    card = rerank_cli(version, models_dir=obj.cfg.models_dir, extra_labels=list(extra_labels),
                      store=None if no_decisions else obj.store, t0=RERANK_T0 if t0 is None else t0,
                      params={k: v for k, v in (("top_layers", top_layers), ("window", window)) if v is not None},
                      promote=promote,
                      log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps({k: card[k] for k in ("version", "metrics", "thresholds", "reranker", "path")},
                          ensure_ascii=False, indent=1, default=str))


@models.command("promote")
@click.argument("version")
@click.pass_obj
@fatal_errors
def models_promote(obj: Ctx, version: str) -> None:
    """Make VERSION the active model; the next process re-scores what it has not seen."""
    from .registry import promote
    promote(version, obj.cfg.models_dir)
    click.echo(f"promoted {version}; run `nguoitot process` to score with it")


@models.command("rollback")
@click.pass_obj
@fatal_errors
def models_rollback(obj: Ctx) -> None:
    """Return to the previously active model."""
    from .registry import rollback
    click.echo(f"active: {rollback(obj.cfg.models_dir)}")


@models.group("exemplars")
def models_exemplars() -> None:
    """The exemplar selector: which of the names a story gives are its exemplars (models/exemplars/)."""


@models_exemplars.command("train")
@click.option("--labels", "extra_labels", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="More label files whose label-2 items' exemplars to learn from (LABELING.md format).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Keep candidates from this probability (default: chosen on the dev set).")
@click.option("--promote", is_flag=True, help="Use the new version once trained.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write the selector here instead of a new version in models/exemplars/ (e.g. the bundled "
                   "pipeline/data/exemplars when the patterns change).")
@click.option("--ner-cache", type=click.Path(dir_okay=False), default=None,
              help="Memoise NER per sentence in this pickle file across runs (tuning).")
@click.pass_obj
@fatal_errors
def models_exemplars_train(obj: Ctx, extra_labels: tuple[str, ...], threshold: float | None, promote: bool,
                           out_dir: str | None, ner_cache: str | None) -> None:
    """Train a selector on the team's labels (outside the dev and check sets) and LABELS; print how it
    compares with the hand-set rules and the selector in use (a few minutes: NER on ~1,700 articles)."""
    from tqdm import tqdm

    from .exemplar_select import train_cli
    if promote and out_dir:
        raise click.UsageError("--promote is for a version in models/exemplars/, not with --out")
    if ner_cache:
        from .exemplar_eval import use_ner_cache
        use_ner_cache(ner_cache)
    with tqdm(desc="candidates", unit=" articles", file=sys.stderr, disable=not obj.progress) as bar:
        card = train_cli(models_dir=obj.cfg.models_dir, extra_labels=list(extra_labels), threshold=threshold,
                         promote=promote, out_dir=out_dir, log=lambda m: bar.write(m, file=sys.stderr),
                         progress=bar.update)
    rows = [{"set": name, "articles": r["articles"],
             **{f"{who} P/R/F1": f"{r[who]['precision']:.3f} / {r[who]['recall']:.3f} / {r[who]['f1']:.3f}"
                for who in ("selector", "in_use", "rules") if who in r}}
            for name, r in card["names_one_gold_per_person"].items()]
    echo_table(rows, ["set", "articles", "selector P/R/F1", "in_use P/R/F1", "rules P/R/F1"])
    click.echo(f"{'promoted' if promote else 'saved'} {card['version']} in {card['path']}"
               + ("" if promote or out_dir else f"; `nguoitot models exemplars promote {card['version']}` to use it"))


@models_exemplars.command("list")
@click.pass_obj
@fatal_errors
def models_exemplars_list(obj: Ctx) -> None:
    """Trained selector versions (none active: the bundled one is used)."""
    from .exemplar_select import list_selectors
    echo_table(list_selectors(obj.cfg.models_dir),
               ["version", "active", "trained", "articles", "threshold", "check_precision", "check_recall",
                "check_f1"])


@models_exemplars.command("show")
@click.argument("version", required=False)
@click.pass_obj
@fatal_errors
def models_exemplars_show(obj: Ctx, version: str | None) -> None:
    """The card of VERSION (default: the selector in use)."""
    from .exemplar_select import active_selector_dir, selector_card, selector_root
    if version is not None:
        from .registry import model_path
        path = model_path(version, selector_root(obj.cfg.models_dir))
    else:
        path = active_selector_dir(obj.cfg.models_dir)
    click.echo(json.dumps(selector_card(path), ensure_ascii=False, indent=1, default=str))


@models_exemplars.command("promote")
@click.argument("version")
@click.pass_obj
@fatal_errors
def models_exemplars_promote(obj: Ctx, version: str) -> None:
    """Use selector VERSION for the names of the stories scored from now on."""
    from .exemplar_select import selector_root
    from .registry import promote
    promote(version, selector_root(obj.cfg.models_dir))
    click.echo(f"exemplar selector {version} in use")


@models_exemplars.command("rollback")
@click.pass_obj
@fatal_errors
def models_exemplars_rollback(obj: Ctx) -> None:
    """Return to the selector in use before (none left: the bundled one)."""
    from .exemplar_select import selector_root
    from .registry import rollback
    v = rollback(selector_root(obj.cfg.models_dir))
    click.echo(f"exemplar selector in use: {v or 'bundled'}")


@main.group()
def export() -> None:
    """Exports: articles (JSON Lines), nominations (award system)."""


@export.command("articles")
@click.option("-o", "--output", "out_path", required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--week", help="Only this ISO week.")
@click.option("--kind", type=click.Choice(["press", "report"]))
@click.pass_obj
@fatal_errors
def export_articles_cmd(obj: Ctx, out_path: str, week: str | None, kind: str | None) -> None:
    """Stored articles, one JSON object a line (the shape `score` reads)."""
    from .export import export_articles
    if out_path == "-":
        n = export_articles(obj.store, sys.stdout, week=week, kind=kind)
    else:
        with open(out_path, "w", encoding="utf-8") as f:
            n = export_articles(obj.store, f, week=week, kind=kind)
    click.echo(f"{n} articles", err=True)


@export.command("nominations")
@click.option("-o", "--out", "out_dir", default="out/nominations", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "json", "docx"]),
              help="Default: all three.")
@click.option("--post", is_flag=True, help="Also POST to the award endpoint in the configuration.")
@click.pass_obj
@fatal_errors
def export_nominations_cmd(obj: Ctx, out_dir: str, formats: tuple[str, ...], post: bool) -> None:
    """Accepted candidates in the award system's import format (+ JSON, + dossier drafts)."""
    from .nominations import export_nominations
    result = export_nominations(obj.store, Path(out_dir), formats=formats or ("xlsx", "json", "docx"),
                                post=post, endpoint=obj.cfg.award_endpoint or None)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    if isinstance(result, dict) and result.get("failed"):
        sys.exit(EXIT_PARTIAL)


if __name__ == "__main__":  # pragma: no cover
    main()
