"""Tokenisation: Chinese words and bigrams, pinyin in full and as initials, folded Latin words."""

from daodian.search.text import document_tokens, exact_forms, fold, normalize, query_terms


def test_chinese_names_yield_words_bigrams_characters_and_pinyin():
    tokens = document_tokens("轮胎安装")
    assert {"轮胎", "安装", "轮胎安装", "胎安"} <= tokens.keys()  # words (search mode) and bigrams
    assert {"luntai", "lt", "anzhuang", "az", "luntaianzhuang", "ltaz"} <= tokens.keys()  # pinyin per word and run
    assert tokens["轮"] < tokens["轮胎"]  # single characters count little
    assert "lun" not in tokens and "you" not in document_tokens("油")  # no pinyin for lone characters


def test_latin_words_are_lowercased_and_folded():
    assert fold("tyres") == fold("tires") == fold("tyre") == fold("tire") == "tyre"
    assert fold("glass") == "glass" and fold("bus") == "bus"
    assert document_tokens("Michelin TYRES 205/55R16").keys() == {"michelin", "tyre", "205", "55r16"}


def test_normalize_folds_width_case_and_control_characters():
    assert normalize("  Ｌｕｎｔａｉ\u200b\t轮胎\x00 ") == "luntai 轮胎"
    assert normalize("😀") == "😀"


def test_query_terms():
    assert [t.alternatives for t in query_terms("轮胎")] == [("轮胎",)]
    assert [t.alternatives for t in query_terms("胎")] == [("胎",)]
    terms = query_terms("tires lunt")
    assert terms[0].alternatives == ("tires", "tyre") and terms[0].prefix is None
    assert terms[1].alternatives == ("lunt",) and terms[1].prefix == "lunt"  # the word being typed
    assert query_terms("😀 !!") == []


def test_exact_forms_include_pinyin():
    assert exact_forms("轮胎") == {"轮胎", "luntai", "lt"}
    assert exact_forms("Tyre fitting") == {"tyrefitting"}
