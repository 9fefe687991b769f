"""
Embedded metal-binding protein families, generated so that the task is solved by the biology: motif grammar
(spacing of the coordinating residues) and conservation across homologs.

A family has a root protein with 0-2 real metal sites (`motifs.SITES`) planted in background sequence; its members
(the proteins of the data set) are mutated copies of the root that keep the sites' ligands and consensus residues,
while the free 'x' residues between the ligands vary like the background (`MEMBER_DIVERGENCE`). Every member then
gets its own decoys, which carry no label: coordinating residues with the wrong spacing, "cryptic" exact motif
matches without the consensus or structural context around them, and (`LOOKALIKE_SHARE` of decoys) "lookalikes":
complete sites, drawn exactly as real ones, that the family does not conserve. Each member has a pool of homologs
(its retrieval context), mutated copies with small insertions and deletions that conserve the real sites
(coordinating residues at 97 %, the rest of the site at 85 %) but mutate decoys at the background rate: in real
MSAs binding sites are conserved and chance motifs are not. A lookalike is the case only the homologs decide (the
premise of conservation-based site prediction: a site the family does not keep is a chance match or a lapsed site,
not a working one), so a single-sequence reader cannot tell it from a real site and retrieval has something to add.

Realism choices (so that a motif regex is not an oracle, as it is not on real metal sites): a real site is
non-canonical with probability `NON_CANONICAL_RATE` (`motifs.non_canonical`: C2HC fingers, Cys3His treble clefs,
EF-hand loops with Asp12 or Met/Phe8, DDxxE), which the canonical regex misses, and exact canonical motifs that bind
nothing are common. The Mg motifs carry their structural context (HAD motif I ends a hydrophobic strand, DDxxD lies
on a helix), as the Zn and Ca sites carry theirs (C2H2 F/L consensus, EF-hand helices); a bare 5-residue motif in
random sequence was too short a signal to learn from a few hundred proteins and too short a block to find in
homologs. Families are many and small (demo: 1000 families of 1-2 members), so a model has to learn the grammar of
many site instances rather than memorise a few families' sites, and the family-disjoint test split holds enough
families per ion to measure.
"""

import numpy as np

from .motifs import AMINO_ACIDS, BACKGROUND, SITES, _filler, decoy_spacing, non_canonical, random_residues, spacer_positions

IONS = ("ZN", "CA", "MG")
# size -> (families, members per family (min, max), homologs per protein, protein length (min, max))
SIZES = {
    "tiny": (16, (2, 3), 3, (40, 60)),
    "demo": (1000, (1, 2), 6, (40, 80)),
    "full": (1200, (3, 6), 16, (80, 250)),
}
SITE_KINDS = list(SITES)
MEMBER_DIVERGENCE = 0.3  # substitution rate of a family member relative to the family's root
NON_CANONICAL_RATE = 0.25  # share of real sites drawn as a non-canonical variant (a choice; see motifs.non_canonical)
# share of decoys that are complete sites the homologs do not conserve, and of cryptic motif matches (a choice)
LOOKALIKE_SHARE, CRYPTIC_SHARE = 0.3, 0.3


def _mutate(rng, sequence: str, rate: float, protected: dict, indel_rate: float = 0.0) -> tuple:
    """
    Substitute residues at `rate` (from the background), except positions in `protected` {pos: keep probability}.
    Small indels (1-3 residues) at `indel_rate` per unprotected position. Returns the new sequence and the map
    old position -> new position for the kept positions.
    """
    out, mapping = [], {}
    substitutes = random_residues(rng, len(sequence))  # drawn at once: per-residue draws are slow
    insertions = random_residues(rng, 3 * len(sequence))
    u_sub, u_indel, u_kind = rng.random((3, len(sequence)))
    lengths = rng.integers(1, 4, size=len(sequence))
    for i, aa in enumerate(sequence):
        keep = protected.get(i)
        if keep is not None:
            new = aa if u_sub[i] < keep else substitutes[i]
        else:
            new = substitutes[i] if u_sub[i] < rate else aa
            if indel_rate and u_indel[i] < indel_rate:
                if u_kind[i] < 0.5:
                    continue  # deletion
                out.append(insertions[3 * i: 3 * i + lengths[i]])  # insertion before
        mapping[i] = len("".join(out))
        out.append(new)
    return "".join(out), mapping


def _assemble(rng, length: int, segments: list) -> tuple:
    """Place `segments` [(string, payload)] in random order and gaps inside background of about `length` residues."""
    core = sum(len(s) for s, _ in segments)
    free = max(length - core, len(segments) + 1)
    cuts = np.sort(rng.choice(np.arange(1, free), size=len(segments), replace=len(segments) >= free - 1)) if segments else []
    gaps = np.diff(np.concatenate([[0], cuts, [free]])).astype(int)
    order = rng.permutation(len(segments)) if segments else []
    parts, placed, position = [], [], 0
    for gap, index in zip(gaps[:-1], order):
        parts.append(random_residues(rng, int(gap)))
        position += int(gap)
        segment, payload = segments[index]
        parts.append(segment)
        placed.append((position, segment, payload))
        position += len(segment)
    parts.append(random_residues(rng, int(gaps[-1])))
    return "".join(parts), placed


def _cryptic(rng, kind: str) -> str:
    """An exact motif match without the consensus around it (C2H2 without F/L; EF-hand loop, DDxxD or DxDx[TV] bare)."""
    segment, offsets, _, _ = SITES[kind](rng)
    if kind == "zn_c2h2":
        segment = "".join(random_residues(rng, 1, "FYLCH") if i not in offsets and c in "FYL" else c for i, c in enumerate(segment))
    if kind == "ca_ef_hand":
        segment = segment[6:-6]
    if kind in ("mg_ddxxd", "mg_had"):  # the bare motif, without its helix / strand
        segment = segment[offsets[0]: offsets[0] + 5]
    return segment


def _site(rng, kind: str) -> tuple:
    """A real site of `kind` as the data draw it: (segment, ligand offsets, ion, kind; non-canonical at NON_CANONICAL_RATE)."""
    segment, offsets, ion, kind = SITES[kind](rng)
    if rng.random() < NON_CANONICAL_RATE:
        segment, kind = non_canonical(rng, kind, segment, offsets)
    return segment, offsets, ion, kind


def _decoy(rng) -> tuple:
    """(segment, type) of one decoy: a lookalike (complete site), a cryptic motif match or a wrong spacing."""
    kind, u = SITE_KINDS[int(rng.integers(len(SITE_KINDS)))], rng.random()
    if u < LOOKALIKE_SHARE:
        return _site(rng, kind)[0], f"lookalike:{kind}"
    if u < LOOKALIKE_SHARE + CRYPTIC_SHARE:
        return _cryptic(rng, kind), f"cryptic:{kind}"
    return decoy_spacing(rng, kind), f"spacing:{kind}"


def generate_family(rng, index: int, size: str) -> list:
    """The rows (one per member protein) of family number `index`."""
    family_id = f"fam{index:04d}"
    _, members_range, num_homologs, length_range = SIZES[size]
    num_sites = rng.choice([0, 1, 2], p=[0.2, 0.55, 0.25])
    # the first site kind cycles with the family number, so every ion has families even in tiny data
    kinds = [SITE_KINDS[index % len(SITE_KINDS)]] + list(rng.choice(SITE_KINDS, size=1))
    sites = [_site(rng, kind) for kind in kinds[:num_sites]]
    length = int(rng.integers(*length_range))
    root, placed = _assemble(rng, length, [(segment, (offsets, ion, kind)) for segment, offsets, ion, kind in sites])
    site_positions, spacers = {}, []  # position -> (ion, is coordinating); free 'x' positions of the sites
    for start, segment, (offsets, ion, kind) in placed:
        for k in range(len(segment)):
            site_positions[start + k] = (ion, k in offsets)
        spacers += [start + k for k in spacer_positions(kind, segment, offsets)]

    rows = []
    for m in range(int(rng.integers(members_range[0], members_range[1] + 1))):
        protected = {p: 1.0 for p in site_positions}
        member, mapping = _mutate(rng, root, rate=MEMBER_DIVERGENCE, protected=protected, indel_rate=0.02)
        # the sites' free 'x' residues differ between members as the background does (ligands and consensus stay)
        varied = [mapping[p] for p in spacers if rng.random() < MEMBER_DIVERGENCE]
        if varied:
            chars = list(member)
            for p, aa in zip(varied, _filler(rng, len(varied))):
                chars[p] = aa
            member = "".join(chars)
        member_sites = {mapping[p]: v for p, v in site_positions.items()}
        # decoys, inserted at random places outside the sites
        decoys = [_decoy(rng) for _ in range(int(rng.choice([0, 1, 2], p=[0.3, 0.45, 0.25])))]
        for decoy, _ in decoys:
            cut_points = [i for i in range(len(member) + 1) if not any(p in member_sites for p in (i - 1, i))]
            cut = int(rng.choice(cut_points))
            member = member[:cut] + decoy + member[cut:]
            member_sites = {(p + len(decoy) if p >= cut else p): v for p, v in member_sites.items()}
        labels = {ion: [0] * len(member) for ion in IONS}
        for position, (ion, coordinating) in member_sites.items():
            if coordinating:
                labels[ion][position] = 1
        homologs = []
        for _ in range(num_homologs):
            keep = {p: (0.97 if coordinating else 0.85) for p, (_, coordinating) in member_sites.items()}
            homolog, _ = _mutate(rng, member, rate=float(rng.uniform(0.2, 0.5)), protected=keep, indel_rate=0.03)
            homologs.append(homolog)
        rows.append({
            "id": f"{family_id}_m{m}", "family": family_id, "sequence": member, "homologs": homologs,
            **{f"labels_{ion.lower()}": labels[ion] for ion in IONS},
            "site_types": ",".join(sorted(kind for _, _, _, kind in sites)) or "none",
            "decoy_types": ",".join(sorted(kind for _, kind in decoys)) or "none",
        })
    return rows


def generate_proteins(size: str = "demo", seed: int = 0) -> list:
    """All rows of the embedded data set at `size` ("tiny", "demo", "full"), deterministic in `seed`."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; known: {', '.join(SIZES)}")
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(SIZES[size][0]):
        rows.extend(generate_family(rng, f, size))
    return rows


assert len(AMINO_ACIDS) == len(BACKGROUND)
