"""The harm-type detector on the shipped lexicon, the standard's keywords and edited copies."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.harms import (
    ALLOW_FILE,
    LEXICON_DIR,
    MIN_TERMS_FILE,
    TERMS_FILE,
    HarmDetector,
    HarmHit,
)
from yuqing.standard import Standard, clear_standard_cache, load_standard

BUNDLED_STANDARD = Path(str(files("yuqing.standard")))

# One realistic sentence per harm type of the bundled standard.
SENTENCES = {
    "subversion": "有人在群里号召大家推翻社会主义制度，还说要打倒共产党。",
    "state_reputation": "这里的派出所和开发商穿一条裤子，官官相护，老百姓告状无门。",
    "secession": "这个账号天天发帖鼓吹台湾独立，说要分裂祖国。",
    "ethnic_hatred": "评论区有人煽动民族仇恨，要把某地的人全部赶走。",
    "rumor": "紧急扩散！听说这家农商行马上要倒闭了，存款不保了，快去取钱！",
    "superstition": "大师改运，请一张转运符放在钱包里，破财消灾，保你来年发大财。",
    "obscenity": "寂寞的夜晚，同城裸聊，私密视频一对一，加微信看照片。",
    "gambling": "注册就送88元，百家乐、体育竞猜天天有，支持银行卡提现。",
    "violence": "再不给我办贷款，我就提着刀过去把那个信贷员砍死，大家同归于尽。",
    "terrorism": "网上有人传授自制炸药的方法，扬言要制造炸弹搞爆炸袭击。",
    "crime_instigation": "长期高价收卡，收购银行卡、对公账户，银行卡四件套一套1500元。",
    "insult_defamation": "把那个柜员人肉出来，曝光隐私，让她全家都知道她是什么人。",
    "org_reputation": "这就是一家黑心银行，吃人不吐骨头，大家以后都避雷。",
    "secrets": "我这里有行里的内部文件，请勿外传，客户名单和截图都有。",
    "other_illegal": "想看的朋友直接打开 hk558.com 注册，里面什么都有。",
}


@pytest.fixture(scope="module")
def standard() -> Standard:
    return load_standard()


@pytest.fixture(scope="module")
def detector(standard: Standard) -> HarmDetector:
    return HarmDetector(standard)


def detect(detector: HarmDetector, raw: str) -> list[HarmHit]:
    return detector.detect(to_match_text(raw))


def types(hits: list[HarmHit]) -> list[str]:
    return [hit.type for hit in hits]


def lexicon_copy(tmp_path: Path) -> Path:
    """A copy of the shipped lexicon directory that a test may edit."""
    target = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, target)
    return target


def test_every_harm_type_of_the_standard_has_a_sentence(standard: Standard) -> None:
    assert [harm.code for harm in standard.harm_types] == list(SENTENCES)


@pytest.mark.parametrize(("code", "sentence"), SENTENCES.items())
def test_each_harm_type_is_found_in_a_realistic_sentence(
    detector: HarmDetector, code: str, sentence: str
) -> None:
    hits = detect(detector, sentence)
    assert code in types(hits)
    hit = next(hit for hit in hits if hit.type == code)
    assert hit.terms
    assert all(term in to_match_text(sentence) for term in hit.terms)


@pytest.mark.parametrize(
    "text",
    [
        "这家银行排队太久了，服务态度差",
        "理财收益不及预期",
        "手机银行转账一直失败，客服电话打不通，投诉了三次也没人管。",
        "信用卡年费说好免的结果还是扣了，退款流程太慢。",
        "10月LPR报价出炉：1年期和5年期以上品种均维持不变。",
        "我行开展反洗钱宣传月活动，提醒客户不要出租出借银行卡。",
        "祝大家生日快乐，幸运儿抽中了年检免单。",
        "手机银行支持快速转账，就算命中注定要排队也不用去网点了。",
        "某公司大股东减持套现5亿元，股价应声下跌。",
    ],
)
def test_ordinary_texts_and_allow_listed_phrases_give_nothing(
    detector: HarmDetector, text: str
) -> None:
    assert detect(detector, text) == []


def test_a_term_inside_an_allow_listed_phrase_is_not_evidence(
    standard: Standard, tmp_path: Path
) -> None:
    folder = lexicon_copy(tmp_path)
    sentence = to_match_text("警方持续打击网络赌博，严查线上赌场。")
    assert "gambling" in types(HarmDetector(standard, folder).detect(sentence))
    (folder / ALLOW_FILE).write_text("严查线上赌场\n打击网络赌博\n", encoding="utf-8")
    assert HarmDetector(standard, folder).detect(sentence) == []


def test_traditional_script_is_found_after_folding(detector: HarmDetector) -> None:
    hits = detect(detector, "網絡賭博平台，百家樂天天有，註冊就送彩金")
    assert types(hits) == ["gambling"]
    # The lexicon's longer 网络赌博平台 holds the keyword 网络赌博: one piece of evidence.
    assert hits[0].terms[:2] == ("网络赌博平台", "百家乐")


def test_results_follow_the_standard_order_and_terms_their_first_occurrence(
    detector: HarmDetector,
) -> None:
    text = to_match_text("百家乐和网络赌博都有。转给身边的人，紧急扩散！")
    hits = detector.detect(text)
    assert types(hits) == ["rumor", "gambling"]
    assert hits[0].terms == ("转给身边的人", "紧急扩散")
    assert hits[1].terms == ("百家乐", "网络赌博")
    assert detector.detect_many([text, "", "理财收益不及预期"]) == [hits, [], []]


def test_a_weak_type_needs_two_distinct_lexicon_terms(standard: Standard, tmp_path: Path) -> None:
    folder = tmp_path / "lexicons"
    folder.mkdir()
    (folder / TERMS_FILE).write_text(
        "巨乳美女\tobscenity\ttest\n激情裸舞\tobscenity\ttest\n", encoding="utf-8"
    )
    (folder / MIN_TERMS_FILE).write_text("obscenity\t2\tmeasured\n", encoding="utf-8")
    detector = HarmDetector(standard, folder)
    assert detector.detect("巨乳美女在线") == []
    assert detector.detect("巨乳美女巨乳美女") == []  # one term twice is one piece of evidence
    assert detector.detect("巨乳美女和激情裸舞") == [HarmHit("obscenity", ("巨乳美女", "激情裸舞"))]
    # A standard keyword is enough alone, and counts with the lexicon terms.
    assert detector.detect("巨乳美女裸聊") == [HarmHit("obscenity", ("巨乳美女", "裸聊"))]


def test_a_term_nested_in_a_longer_hit_counts_once(standard: Standard, tmp_path: Path) -> None:
    folder = tmp_path / "lexicons"
    folder.mkdir()
    (folder / TERMS_FILE).write_text(
        "真人百家乐\tgambling\ttest\n真钱赌场\tgambling\ttest\n", encoding="utf-8"
    )
    detector = HarmDetector(standard, folder)
    assert detector.detect("真人百家乐开局") == [HarmHit("gambling", ("真人百家乐",))]


def test_a_keyword_added_in_an_override_standard_takes_effect(tmp_path: Path) -> None:
    text = (BUNDLED_STANDARD / "harm_types.yaml").read_text(encoding="utf-8")
    old = "keywords: [内部文件,"
    assert old in text
    (tmp_path / "harm_types.yaml").write_text(
        text.replace(old, "keywords: [行长会议纪要,", 1), encoding="utf-8"
    )
    sentence = to_match_text("行长会议纪要都流出来了")
    assert HarmDetector(load_standard()).detect(sentence) == []
    try:
        edited = load_standard(tmp_path)
        assert HarmDetector(edited).detect(sentence) == [HarmHit("secrets", ("行长会议纪要",))]
    finally:
        clear_standard_cache()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("百家乐\tgambling", "第 3 行格式有误"),
        ("百家乐\t\tgambling", "第 3 行格式有误"),
        ("百家乐\tgamble\thoubb:3", "第 3 行：未知的有害信息类型代码 'gamble'"),
    ],
)
def test_a_malformed_terms_file_names_file_and_line(
    standard: Standard, tmp_path: Path, line: str, expected: str
) -> None:
    folder = lexicon_copy(tmp_path)
    (folder / TERMS_FILE).write_text(
        f"# header\n真钱赌场\tgambling\thoubb:3\n{line}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        HarmDetector(standard, folder)
    assert expected in str(info.value)
    assert str(folder / TERMS_FILE) in str(info.value)


def test_a_bad_min_terms_line_and_a_missing_terms_file_are_config_errors(
    standard: Standard, tmp_path: Path
) -> None:
    folder = lexicon_copy(tmp_path)
    (folder / MIN_TERMS_FILE).write_text("obscenity\ttwo\tmeasured\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="第 1 行：最少词数须为正整数"):
        HarmDetector(standard, folder)
    (folder / MIN_TERMS_FILE).unlink()
    assert HarmDetector(standard, folder).detect("真钱百家乐") != []
    (folder / TERMS_FILE).unlink()
    with pytest.raises(ConfigError, match="无法读取"):
        HarmDetector(standard, folder)


def test_shipped_lexicon_is_inside_the_package_and_small() -> None:
    for name in (TERMS_FILE, ALLOW_FILE, MIN_TERMS_FILE, "harms.md"):
        assert (LEXICON_DIR / name).is_file(), name
    size = sum((LEXICON_DIR / name).stat().st_size for name in (TERMS_FILE, ALLOW_FILE))
    assert size < 3 * 1024 * 1024
