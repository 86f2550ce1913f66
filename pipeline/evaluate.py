"""Evaluation: metrics table, precision/recall curve and confusion matrix (PNG).

``evaluate(model, records, out_dir)`` scores labelled records with a trained
model (use labels the model was NOT trained on, e.g. ``--labels FILE``).
``evaluate_cv(records, out_dir)`` gives the honest numbers on the training
labels themselves: out-of-fold scores of the production pipeline on folds
grouped by text, reweighted to the natural base rate, with intervals.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .train import cells_of, evaluate_scores, natural_weights


def _plot_pr(y, s, w, out: Path, thresholds: dict[str, float], title: str) -> Path:  # noqa: ANN001
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    for weights, name in ((None, "labelled mix"), (w, "natural stream (reweighted)")):
        if weights is not None and not np.any(weights):
            continue
        p, r, _ = precision_recall_curve(y, s, sample_weight=weights)
        ax.plot(r, p, label=name)
    from .train import weighted_pr
    for key, marker in (("label2", "o"), ("label1", "s")):
        if key in thresholds and w is not None and np.any(w):
            pp, rr = weighted_pr(y, s, w, thresholds[key])
            ax.plot([rr], [pp], marker, label=f"{key} threshold {thresholds[key]:.3f}")
    ax.set_xlabel("recall (label 2)")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1.02)
    ax.grid(alpha=.3)
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _plot_confusion(cm: np.ndarray, labels: Sequence[str], out: Path, title: str) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4.5, 4), dpi=100)
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def metrics_table(metrics: dict[str, Any]) -> str:
    """A plain-text table of the metrics dict (what ``nguoitot evaluate`` prints)."""
    rows = [("set", "n", "pos", "PR-AUC [95% CI]", "precision [CI]", "recall [CI]")]

    def ci(m: dict[str, Any], k: str) -> str:
        v = m.get(k)
        c = m.get(k + "_ci")
        if v is None:
            return "—"
        return f"{v:.3f} [{c[0]:.3f}–{c[1]:.3f}]" if c else f"{v:.3f}"
    for name in ("natural", "labelled_mix", "vocabulary", "other"):
        m = metrics.get(name)
        if not m:
            continue
        label = {"natural": "natural stream (reweighted)", "labelled_mix": "labelled mix",
                 "vocabulary": "vocabulary cell", "other": "non-vocabulary cell"}[name]
        rows.append((label, str(m["n"]), str(m["positives"]), ci(m, "pr_auc"), ci(m, "precision"), ci(m, "recall")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    extra = []
    if metrics.get("thresholds"):
        t = metrics["thresholds"]
        extra.append(f"thresholds: label2 >= {t.get('label2')}, label1 >= {t.get('label1')}")
    if "natural" in metrics and "base_rate" in metrics["natural"]:
        extra.append(f"estimated natural base rate of label 2: {metrics['natural']['base_rate']:.3f}")
    for k in ("field_accuracy", "field_macro_f1", "deed_macro_f1", "exemplar_precision", "exemplar_recall",
              "label_accuracy"):
        if metrics.get(k) is not None:
            extra.append(f"{k}: {metrics[k]:.3f}")
    return "\n".join(lines + extra)


def _finish(metrics: dict[str, Any], records: Sequence[dict[str, Any]], scores: np.ndarray,
            pred_labels: Sequence[int], thresholds: dict[str, float], out_dir: str | Path | None,
            title: str, printer: Callable[[str], None] | None) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix
    y = np.asarray([1 if r["label"] == 2 else 0 for r in records])
    gold = [int(r["label"]) for r in records]
    cm = confusion_matrix(gold, list(pred_labels), labels=[0, 1, 2])
    metrics["confusion"] = cm.tolist()
    metrics["label_accuracy"] = float(np.trace(cm) / max(cm.sum(), 1))
    metrics["thresholds"] = {k: v for k, v in thresholds.items() if k.startswith("label")}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        w = natural_weights(records)
        metrics["pr_curve_png"] = str(_plot_pr(y, scores, w, out / "pr_curve.png", metrics["thresholds"], title))
        metrics["confusion_png"] = str(_plot_confusion(cm, ["0", "1", "2"], out / "confusion.png", title))
        (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if printer:
        printer(metrics_table(metrics))
    return metrics


def evaluate(model: Any, records: Sequence[dict[str, Any]], out_dir: str | Path | None = None, *,
             n_boot: int = 500, details: bool = True, printer: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Metrics of a trained :class:`~pipeline.classify.Model` on labelled records.

    Label-2 PR-AUC / precision / recall (labelled mix and natural-rate
    reweighted, with bootstrap intervals), 3×3 label confusion matrix, field
    accuracy and macro-F1 on gold label ≥ 1, exemplar-name precision/recall on
    gold label-2 items (when ``details``). Writes ``pr_curve.png``,
    ``confusion.png`` and ``metrics.json`` into ``out_dir``."""
    from sklearn.metrics import f1_score
    records = list(records)
    scores = np.asarray(model.predict_score(records))
    preds = [model.label_of(float(s)) for s in scores]
    metrics = evaluate_scores(records, scores, model.thresholds["label2"], n_boot=n_boot)
    metrics["model_version"] = model.version
    from .classify import _predict_codes
    pos = [i for i, r in enumerate(records) if r["label"] >= 1 and r.get("field")]
    if pos:
        sub = [records[i] for i in pos]
        pf = [c for c, _ in _predict_codes(model.field_model, sub, "field")]
        gf = [r["field"] for r in sub]
        metrics["field_accuracy"] = float(np.mean([a == b for a, b in zip(pf, gf)]))
        metrics["field_macro_f1"] = float(f1_score(gf, pf, average="macro"))
        dsub = [r for r in sub if r.get("deed")]
        if dsub:
            pd_ = [c for c, _ in _predict_codes(model.deed_model, dsub, "deed")]
            metrics["deed_macro_f1"] = float(f1_score([r["deed"] for r in dsub], pd_, average="macro"))
    if details:
        from .classify import _exemplars_of
        from .exemplar_eval import score_names
        gold_pos = [(r, r) for r in records if r["label"] == 2 and r.get("exemplars")]
        if gold_pos:  # names as pipeline.exemplar_eval counts them (one gold name per person)
            found = _exemplars_of([r for r, _ in gold_pos], [2] * len(gold_pos), getattr(model, "selector_dir", None))
            names = {id(r): [e.get("name", "") for e in f] for (r, _), f in zip(gold_pos, found)}
            m = score_names(gold_pos, lambda r: names[id(r)])
            metrics["exemplar_precision"] = m["precision"] if m["predicted"] else None
            metrics["exemplar_recall"] = m["recall"]
            metrics["exemplar_items"] = len(gold_pos)
    return _finish(metrics, records, scores, preds, model.thresholds, out_dir,
                   f"model {model.version}", printer)


def evaluate_cv(records: Sequence[dict[str, Any]], out_dir: str | Path | None = None, *, folds: int = 5,
                seed: int = 0, make: Callable[[], Any] | None = None, n_boot: int = 500,
                printer: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Cross-validated metrics of the production pipeline on labelled records (grouped folds)."""
    from .classify import make_label_pipeline
    from .train import choose_thresholds, cv_folds, oof_scores
    records = list(records)
    make = make or (lambda: make_label_pipeline(seed=seed))
    fl = cv_folds(records, folds, seed)
    y = np.asarray([1 if r["label"] == 2 else 0 for r in records])
    s = oof_scores(make, records, fl)
    ev = cells_of(records) != ""
    w = natural_weights(records)
    y1 = np.asarray([1 if r["label"] >= 1 else 0 for r in records])
    th = (choose_thresholds(y[ev], s[ev], w[ev], y1=y1[ev]) if ev.any() and y[ev].sum()
          else choose_thresholds(y, s, np.ones(len(y)), y1=y1))
    metrics = evaluate_scores(records, s, th["label2"], n_boot=n_boot, seed=seed)
    metrics["oof_scores"] = [round(float(x), 5) for x in s]
    preds = [2 if x >= th["label2"] else 1 if x >= th["label1"] else 0 for x in s]
    return _finish(metrics, records, s, preds, th, out_dir, f"{folds}-fold grouped CV", printer)


def evaluate_cli(*, label_files: Sequence[str | Path] = (), model_path: str | Path | None = None,
                 out_dir: str | Path = "out/evaluate", echo: Callable[[str], None] = print,
                 folds: int = 5, models_dir: str | Path | None = None) -> dict[str, Any]:
    """``nguoitot evaluate``: with ``--labels FILE``, the (active or given) model on those labels;
    without, cross-validated metrics of the production pipeline on the seed + team labels."""
    from .config import shared_corpora
    from .train import default_label_paths, load_training_data
    press = shared_corpora() / "press.jsonl.gz"
    if label_files:
        from .classify import load_model
        model = load_model(model_path, models_dir=models_dir)
        recs = load_training_data(list(label_files), press)
        echo(f"model {model.version} on {len(recs)} labelled articles from {', '.join(map(str, label_files))}")
        m = evaluate(model, recs, out_dir, printer=echo)
    else:
        recs = load_training_data(default_label_paths(), press)
        echo(f"{folds}-fold cross-validation (grouped by text) on {len(recs)} labelled articles")
        m = evaluate_cv(recs, out_dir, folds=folds, printer=echo)
        m.pop("oof_scores", None)
    echo(f"wrote {Path(out_dir) / 'pr_curve.png'} and {Path(out_dir) / 'confusion.png'}")
    return m
