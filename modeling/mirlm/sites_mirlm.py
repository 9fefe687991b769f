"""
Canonical miRNA target-site geometry (TargetScan definitions) — the one source of truth used by the data
generator (planting), the seed-match baseline (scanning) and the pipeline (naming a predicted span).

A miRNA pairs antiparallel with its target: the site on the mRNA (5'->3') is the reverse complement of the
miRNA seed. With the miRNA nucleotides numbered m1..mN from its 5' end and `q` the mRNA index paired with
m2, nucleotide mk pairs with mRNA index q - (k - 2); m8 sits at q - 6 and the base opposite m1 at q + 1.

    8mer         RC(m2..m8) + A      [q-6, q+1]
    7mer-m8      RC(m2..m8)          [q-6, q]     base at q+1 is not A
    7mer-A1      RC(m2..m7) + A      [q-5, q+1]   base at q-6 does not pair with m8
    6mer         RC(m2..m7)          [q-5, q]     neither m8 pairing nor A1
    offset-6mer  RC(m3..m8)          [q-6, q-1]   base at q does not pair with m2

Spans are 0-based and inclusive on the mRNA string. Sequences are upper-case DNA (T, not U); N pairs with
nothing. Only Watson-Crick pairs count (a G:U wobble breaks a canonical site).
"""

from dataclasses import dataclass

# Ordered by efficacy (Bartel 2009; Agarwal et al. 2015), best first.
SITE_TYPES = ("8mer", "7mer-m8", "7mer-A1", "6mer", "offset-6mer")
NON_CANONICAL = "non-canonical"

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def reverse_complement(seq: str) -> str:
    """Reverse complement of an upper-case DNA string (N stays N)."""
    return seq.translate(_COMPLEMENT)[::-1]


def seed(mirna: str) -> str:
    """The seed m2..m8 (7 nt), which also names the miRNA family."""
    if len(mirna) < 8:
        raise ValueError(f"a miRNA needs at least 8 nt to have a seed (m2-m8), got {len(mirna)}: {mirna!r}")
    return mirna[1:8]


def site_sequence(mirna: str, site_type: str) -> str:
    """The mRNA bases that define a site of `site_type` (flanks that must *not* match are not included)."""
    seed(mirna)
    if site_type == "8mer":
        return reverse_complement(mirna[1:8]) + "A"
    if site_type == "7mer-m8":
        return reverse_complement(mirna[1:8])
    if site_type == "7mer-A1":
        return reverse_complement(mirna[1:7]) + "A"
    if site_type == "6mer":
        return reverse_complement(mirna[1:7])
    if site_type == "offset-6mer":
        return reverse_complement(mirna[2:8])
    raise ValueError(f"unknown canonical site type {site_type!r}; expected one of {SITE_TYPES}")


@dataclass(frozen=True)
class Site:
    """A canonical site on an mRNA: 0-based inclusive span and its type."""

    start: int
    end: int
    site_type: str

    @property
    def rank(self) -> int:
        """Position in `SITE_TYPES` (0 = most effective)."""
        return SITE_TYPES.index(self.site_type)


def _occurrences(text: str, word: str):
    """Start indices of every (possibly overlapping) occurrence of `word` in `text`."""
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def _candidates(mrna: str, mirna: str) -> list:
    """Every canonical site, one per anchor, before overlaps are resolved."""
    m8_pair = reverse_complement(mirna[7])  # mRNA base that pairs with m8
    m2_pair = reverse_complement(mirna[1])
    found = []
    # Sites built on RC(m2..m7) at [q-5, q]: 8mer, 7mer-m8, 7mer-A1, 6mer.
    for left in _occurrences(mrna, reverse_complement(mirna[1:7])):
        q = left + 5
        has_m8 = left >= 1 and mrna[left - 1] == m8_pair
        has_a1 = q + 1 < len(mrna) and mrna[q + 1] == "A"
        if has_m8 and has_a1:
            found.append(Site(left - 1, q + 1, "8mer"))
        elif has_m8:
            found.append(Site(left - 1, q, "7mer-m8"))
        elif has_a1:
            found.append(Site(left, q + 1, "7mer-A1"))
        else:
            found.append(Site(left, q, "6mer"))
    # Offset 6mer: RC(m3..m8) at [q-6, q-1] with no m2 pairing at q (else it is one of the above).
    for left in _occurrences(mrna, reverse_complement(mirna[2:8])):
        q = left + 6
        if not (q < len(mrna) and mrna[q] == m2_pair):
            found.append(Site(left, q - 1, "offset-6mer"))
    return found


def find_sites(mrna: str, mirna: str) -> list:
    """
    Canonical sites of `mirna` on `mrna` (mRNA strand only), sorted by start. Overlapping candidates are
    resolved greedily by efficacy so each location reports only its best site (no redundant 6mer inside
    a 7mer, no offset-6mer overlapping an 8mer).
    """
    seed(mirna)
    chosen = []
    for site in sorted(_candidates(mrna, mirna), key=lambda s: (s.rank, s.start)):
        if all(site.end < kept.start or site.start > kept.end for kept in chosen):
            chosen.append(site)
    return sorted(chosen, key=lambda s: s.start)


def best_site(mrna: str, mirna: str):
    """The most effective canonical site (leftmost on ties), or None."""
    sites = find_sites(mrna, mirna)
    return min(sites, key=lambda s: (s.rank, s.start)) if sites else None


def classify_span(mrna: str, mirna: str, start: int, end: int) -> str:
    """
    Name the site type of the inclusive span [start, end]: the canonical site that overlaps it most
    (the more effective one on ties), or "non-canonical" when it overlaps no canonical site.
    """
    if start < 0 or end < start:
        raise ValueError(f"invalid span [{start}, {end}]")
    best, best_key = NON_CANONICAL, None
    for site in find_sites(mrna, mirna):
        overlap = min(end, site.end) - max(start, site.start) + 1
        if overlap > 0:
            key = (overlap, -site.rank)
            if best_key is None or key > best_key:
                best, best_key = site.site_type, key
    return best
