"""MinHash signatures are stored and compared across runs: they must never drift."""

from __future__ import annotations

import hashlib

from yuqing.domain import Item
from yuqing.pipeline.dedupe import PERMUTATIONS, SimilarityIndex, minhash_many, similarity

TEXTS = [
    "云岭农商银行城关支行门口排起长队，多名储户反映取不出钱。",
    "ab",
    "",
    "转发微博 //@用户1: 今天天气不错",
    *(f"第{i}条：银行网点排队{i * 7}人" for i in range(70)),
]


def test_signatures_are_those_of_earlier_releases() -> None:
    signatures = minhash_many(TEXTS)
    assert signatures.shape == (len(TEXTS), PERMUTATIONS)
    assert list(signatures[0][:4]) == [77556133, 70022656, 33745511, 66218924]
    # Computed by the first release (one 64-text chunk, no in-place arithmetic).
    digest = hashlib.sha256(signatures.tobytes()).hexdigest()
    assert digest == "9d3480c0ca6d2c98ef17f78201d375d3363d67d5d85009fbc4716c80e5846d66"


def test_a_text_gets_the_same_signature_alone_or_in_any_chunk() -> None:
    together = minhash_many(TEXTS)
    for i in (0, 31, 32, 33, len(TEXTS) - 1):
        alone = minhash_many([TEXTS[i]])[0]
        assert similarity(alone, together[i]) == 1.0


def test_a_repost_is_similar_and_another_text_is_not() -> None:
    original, repost, other = minhash_many(
        [TEXTS[0], "转发微博 //@某网友: " + TEXTS[0], "今日天气晴，气温十五度，适合出行。"]
    )
    assert similarity(original, repost) >= 0.6
    assert similarity(original, other) < 0.2


def test_index_finds_a_stored_copy_and_forgets_a_rolled_back_one() -> None:
    article = (
        TEXTS[0] + "银行工作人员解释称，系统升级导致部分业务暂停，存款安全不受影响，预计下午恢复。"
    )
    texts = [article, "【转】" + article, "今日天气晴，气温十五度，适合出行。"]
    signatures = minhash_many(texts)
    keys = SimilarityIndex.keys(signatures)
    index = SimilarityIndex()
    index.add(7, signatures[0])  # a stored item: keys computed by the index
    found = index.best(signatures[1], keys[1], 0.6)
    assert found is not None and found[0] == 7 and found[1] >= 0.6
    assert index.best(signatures[2], keys[2], 0.6) is None

    pending = Item.__new__(Item)
    index.add_pending(pending, signatures[2], keys[2])
    assert index.best(signatures[2], keys[2], 0.6) == (pending, 1.0)
    index.rollback()
    assert index.best(signatures[2], keys[2], 0.6) is None
    assert len(index) == 1
