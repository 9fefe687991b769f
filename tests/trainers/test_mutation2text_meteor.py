"""METEOR offline: nltk's scorer over WordNet 3.0 from Debian's wordnet-base; None (and a reason) without it."""

import pytest

from trainers.mutation2text import meteor as meteor_module
from trainers.mutation2text.meteor import meteor, meteor_unavailable


@pytest.mark.skipif(meteor_unavailable() is not None, reason=str(meteor_unavailable()))
def test_meteor_matches_synonyms_through_wordnet(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # a fresh cache: the WordNet files are copied and lexnames rebuilt
    meteor_module.offline_wordnet.cache_clear()
    wordnet = meteor_module.offline_wordnet()
    assert (tmp_path / "nltk_data" / "wordnet-3.0" / "lexnames").read_text().splitlines()[3].split()[:2] == ["03", "noun.Tops"]
    assert {"decrease", "diminish"} <= {lemma.name() for s in wordnet.synsets("decrease", "v") for lemma in s.lemmas()}
    exact = meteor(["decreases the activity"], ["decreases the activity"])
    synonym = meteor(["diminishes the activity"], ["decreases the activity"])
    unrelated = meteor(["binds the membrane"], ["decreases the activity"])
    assert exact > synonym > unrelated  # the synonym counts (WordNet), less than the exact word
    meteor_module.offline_wordnet.cache_clear()


def test_meteor_without_wordnet_is_none_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(meteor_module, "WORDNET_DIR", tmp_path / "nowhere")
    meteor_module.offline_wordnet.cache_clear()
    assert "apt-get install wordnet-base" in meteor_unavailable()
    assert meteor(["a"], ["a"]) is None
    meteor_module.offline_wordnet.cache_clear()
