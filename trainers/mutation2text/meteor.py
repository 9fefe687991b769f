"""
METEOR offline: nltk's `meteor_score` (exact, Porter-stem and WordNet-synonym matches) needs the WordNet corpus,
which `nltk.download` fetches from the network. Offline, the same WordNet 3.0 database comes from Debian's
`wordnet-base` package (`apt-get install wordnet-base`: /usr/share/wordnet). It lacks two small files nltk's reader
opens: `lexnames` (the 45 lexicographer file names, rebuilt here from the package's own lexnames(5) manual page) and
`index.sense` (used only to map other WordNet versions for multilingual lookups, which METEOR does not use). The
database is copied once into a cache folder (nltk reads only inside its data path) and read from there.

Without it, `meteor` returns None and `meteor_unavailable()` says why; nothing is downloaded.
"""

import gzip
import os
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Optional

WORDNET_DIR = Path(os.environ.get("BIOHF_WORDNET_DIR", "/usr/share/wordnet"))
LEXNAMES_MANPAGE = Path("/usr/share/man/man5/lexnames.5WN.gz")
WORDNET_FILES = ("data.adj", "data.adv", "data.noun", "data.verb", "index.adj", "index.adv", "index.noun",
                 "index.verb", "adj.exc", "adv.exc", "noun.exc", "verb.exc")


def meteor_unavailable() -> Optional[str]:
    """Why METEOR cannot be computed here (None when it can)."""
    missing = [name for name in WORDNET_FILES if not (WORDNET_DIR / name).is_file()]
    if missing:
        return f"WordNet 3.0 not found in {WORDNET_DIR} (missing {missing[:3]}...): apt-get install wordnet-base"
    if not (WORDNET_DIR / "lexnames").is_file() and not LEXNAMES_MANPAGE.is_file():
        return f"neither {WORDNET_DIR / 'lexnames'} nor {LEXNAMES_MANPAGE} (wordnet-base's lexnames(5) page) exists"
    return None


def _lexnames() -> str:
    if (WORDNET_DIR / "lexnames").is_file():
        return (WORDNET_DIR / "lexnames").read_text()
    with gzip.open(LEXNAMES_MANPAGE, "rt") as handle:  # the table of the page: "00\tadj.all\tall adjective clusters"
        rows = [line.split()[:2] for line in handle if re.match(r"^\d\d\t", line)]
    if [int(number) for number, _ in rows] != list(range(len(rows))) or len(rows) != 45:
        raise ValueError(f"{LEXNAMES_MANPAGE}: expected the 45 lexicographer files 00..44, read {len(rows)}")
    return "".join(f"{number}\t{name}\t0\n" for number, name in rows)


@lru_cache(maxsize=1)
def offline_wordnet():
    """nltk's WordNet reader over the local WordNet 3.0 files (copied once to the cache), or None."""
    if meteor_unavailable():
        return None
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class LocalWordNet(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):  # version mapping (index.sense) is for multilingual use only
            return None

    cache = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "biohf")) / "nltk_data"
    folder = cache / "wordnet-3.0"
    if not (folder / "lexnames").is_file():
        staging = cache / f"wordnet-3.0.{os.getpid()}.tmp"
        staging.mkdir(parents=True, exist_ok=True)
        for name in WORDNET_FILES:
            shutil.copyfile(WORDNET_DIR / name, staging / name)
        (staging / "lexnames").write_text(_lexnames())
        if not folder.exists():
            os.replace(staging, folder)
        else:
            shutil.rmtree(staging)
    if str(cache) not in nltk.data.path:
        nltk.data.path.append(str(cache))
    return LocalWordNet(str(folder), None)


def meteor(predictions: list, references: list) -> Optional[float]:
    """Mean sentence METEOR (nltk; whitespace tokens, lower-cased, as MutaPLM scores it), or None without WordNet."""
    wordnet = offline_wordnet()
    if wordnet is None:
        return None
    from nltk.translate.meteor_score import meteor_score

    scores = [meteor_score([ref.lower().split()], pred.lower().split(), wordnet=wordnet)
              for pred, ref in zip(predictions, references, strict=True)]
    return sum(scores) / len(scores) if scores else 0.0
