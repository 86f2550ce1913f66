"""Vietnamese normalisation: NFC, one tone placement, invisible characters, spacing."""
import unicodedata

from pipeline.text import content_hash, fold, is_vietnamese, normalize, sentences, strip_diacritics, words


def test_decomposed_input_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "Người tốt – Việc tốt ở phường Láng")
    assert nfd != "Người tốt – Việc tốt ở phường Láng"
    assert normalize(nfd) == "Người tốt – Việc tốt ở phường Láng"
    assert unicodedata.is_normalized("NFC", normalize(nfd))


def test_one_tone_placement_old_and_new_agree():
    pairs = [("hoà bình", "hòa bình"), ("khoẻ mạnh", "khỏe mạnh"), ("Thuý", "Thúy"),
             ("HOÀ", "HÒA"), ("văn hoá", "văn hóa"), ("loà", "lòa")]
    for old, new in pairs:
        assert normalize(old) == normalize(new) == new


def test_tone_not_moved_where_a_final_consonant_or_qu_decides():
    for word in ("hoàn thành", "toán học", "quý", "quỳ", "thuyền", "khuya", "huấn"):
        assert normalize(word) == word


def test_decomposed_and_old_style_together():
    assert normalize(unicodedata.normalize("NFD", "Hoà Bình, khoẻ")) == "Hòa Bình, khỏe"


def test_invisible_characters_and_spacing():
    raw = "Anh\u200b Nguyễn\u00a0Văn  A ,  ngụ\ufeff tại ( Hà Nội ) ."
    assert normalize(raw) == "Anh Nguyễn Văn A, ngụ tại (Hà Nội)."


def test_empty_and_none():
    assert normalize("") == ""
    assert normalize(None) == ""
    assert normalize("   \n\n ") == ""
    assert sentences("") == []
    assert words("") == []


def test_non_vietnamese_text_passes_through():
    en = "The quick brown fox jumps over the lazy dog."
    assert normalize(en) == en
    assert not is_vietnamese(en)
    assert is_vietnamese("Anh Nguyễn Văn A đã dũng cảm lao xuống sông cứu hai em nhỏ.")


def test_paragraphs_kept_blank_lines_collapsed():
    assert normalize("Đoạn một.\n\n\n\nĐoạn hai.") == "Đoạn một.\n\nĐoạn hai."


def test_sentences_split_and_paragraphs_never_join():
    s = sentences("Sáng 12/3, anh A nhặt được ví. Anh trả lại cho chủ\nĐoạn mới bắt đầu")
    assert s[0].startswith("Sáng 12/3")
    assert any(x.startswith("Anh trả lại") for x in s)
    assert s[-1] == "Đoạn mới bắt đầu"


def test_words_segmented_with_underthesea():
    w = words("Chiến sĩ công an dũng cảm cứu người")
    assert "Chiến_sĩ" in w or "chiến_sĩ" in [x.lower() for x in w]
    assert "dũng_cảm" in [x.lower() for x in w]


def test_fold_and_hash_ignore_spacing_case_and_tone_style():
    assert fold("  Văn  HOÁ ") == "văn hóa"
    assert content_hash("Tiêu đề", "", "Văn hoá  , mới") == content_hash("tiêu đề", "", "Văn hóa, mới")
    assert content_hash("A") != content_hash("B")


def test_strip_diacritics():
    assert strip_diacritics("Đống Đa, Hà Nội") == "Dong Da, Ha Noi"


def test_real_press_texts_normalise_idempotently(press_by_id):
    for rec in list(press_by_id.values())[:300]:
        once = normalize(rec["text"] or rec["title"])
        assert normalize(once) == once


def test_fallback_sentence_split_needs_a_capital_not_a_lower_case_accented_letter():
    from pipeline.text import _SENT_FALLBACK
    assert _SENT_FALLBACK.split("Anh A đã cứu người. ông B cũng vậy. Ông C thì không. 3 người được khen.") == [
        "Anh A đã cứu người. ông B cũng vậy.", "Ông C thì không.", "3 người được khen."]
