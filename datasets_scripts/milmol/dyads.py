"""
The second block of dyads in `molecules.tsv` (session 6): `python -m datasets_scripts.milmol.dyads` prints its rows.

A dyad is `<unit>-<saturated spacer>-<unit>`, the class of Py(CH2)3DMA (Zachariasse, Mataga): two pi units joined by
a spacer through which they cannot conjugate, so whether they touch is a conformer event. This block adds units and
attachment points to those of the first block (1-pyrenyl, 9-anthryl, perylen-3-yl, 9-phenanthryl, 1-/2-naphthyl;
4-dimethylaminophenyl, 9-carbazolyl, 4-methoxy-/4-hydroxyphenyl; 4-nitro-, 3,5-dinitro-, 4-cyanophenyl,
1-methylpyridinium-4-yl) and two branched spacers:
  fluorophores    pyren-2-yl, 2-anthryl, chrysen-6-yl, fluoranthen-3-yl, 9H-fluoren-2-yl (+ the first block's)
  strong donors   4-diethylamino-, 4-(pyrrolidin-1-yl)-, 3-dimethylaminophenyl, 1-methylindol-3-yl,
                  10H-phenothiazin-10-yl, 9-ethylcarbazol-3-yl (+ 4-dimethylaminophenyl, 9-carbazolyl)
  weak donors     3-methoxy-, 2-methoxy-, 3,4-dimethoxy-, 3,4,5-trimethoxyphenyl (+ 4-methoxy-, 4-hydroxyphenyl)
  acceptors       3-cyanophenyl, 3,5-dicyanophenyl, 3-nitrophenyl, 1-methylpyridinium-3-yl (+ 4-cyano-, 4-nitrophenyl,
                  1-methylpyridinium-4-yl)
  spacers         the first block's seven (ethane-1,2-diyl, propane-1,3-diyl, butane-1,4-diyl, oxybis(methylene),
                  ethyleneoxy, thiobis(methylene), ethyleneoxymethylene) + 2-methylpropane-1,3-diyl,
                  2,2-dimethylpropane-1,3-diyl
Pairs (not already in the first block): fluorophore + strong donor (exciplex) and strong donor + cyano / pyridinium
acceptor (charge transfer) where at least one of the two units is a first-block unit; every fluorophore + weak donor,
fluorophore + cyano / pyridinium acceptor (electron transfer), weak donor + acceptor (charge transfer); like
fluorophores of the new ones (excimer). The two restrictions keep the two rare tasks rare (Transmittance_450 and
Fluorescence_more_than_480 under 10 % of the embedded molecules): those pairs are the ones whose fold gives a band
at >= 450 / > 480 nm. The first block gives every pair all seven spacers; here pair k (in the order listed)
gets SPACERS_PER_PAIR spacers, k, k + 3, k + 6 (mod 9) of SPACERS, so every spacer is used about equally and each
unit meets short and long spacers: the spacer sets how likely a fold is, the conformers decide whether one happens.
A first draft with every pair (753 dyads) gave the rare tasks 9.5 % / 9.8 % prevalence; the two restrictions
were then chosen per pair class. No single molecule was kept or dropped for its simulated label.
"""

from rdkit import Chem

FLUOROPHORES = [("1-pyrenyl", "[*:1]c1ccc2ccc3cccc4ccc1c2c34"), ("9-anthryl", "[*:1]c1c2ccccc2cc2ccccc12"),
                ("perylen-3-yl", "[*:1]c1ccc2c3cccc4cccc(c5cccc1c52)c43"), ("9-phenanthryl", "[*:1]c1cc2ccccc2c2ccccc12"),
                ("pyren-2-yl", "[*:1]c1cc2ccc3cccc4ccc(c1)c2c34"), ("2-anthryl", "[*:1]c1ccc2cc3ccccc3cc2c1"),
                ("chrysen-6-yl", "[*:1]c1cc2c3ccccc3ccc2c2ccccc12"), ("fluoranthen-3-yl", "[*:1]c1ccc2c3c1cccc3-c1ccccc12"),
                ("9H-fluoren-2-yl", "[*:1]c1ccc2c(c1)Cc1ccccc1-2"), ("1-naphthyl", "[*:1]c1cccc2ccccc12"),
                ("2-naphthyl", "[*:1]c1ccc2ccccc2c1")]
STRONG_DONORS = [("4-dimethylaminophenyl", "[*:1]c1ccc(N(C)C)cc1"), ("9-carbazolyl", "[*:1]n1c2ccccc2c2ccccc21"),
                 ("4-diethylaminophenyl", "[*:1]c1ccc(N(CC)CC)cc1"), ("4-(pyrrolidin-1-yl)phenyl", "[*:1]c1ccc(N2CCCC2)cc1"),
                 ("3-dimethylaminophenyl", "[*:1]c1cccc(N(C)C)c1"), ("1-methylindol-3-yl", "[*:1]c1cn(C)c2ccccc12"),
                 ("10H-phenothiazin-10-yl", "[*:1]N1c2ccccc2Sc2ccccc21"), ("9-ethylcarbazol-3-yl", "[*:1]c1ccc2n(CC)c3ccccc3c2c1")]
WEAK_DONORS = [("4-methoxyphenyl", "[*:1]c1ccc(OC)cc1"), ("4-hydroxyphenyl", "[*:1]c1ccc(O)cc1"),
               ("3-methoxyphenyl", "[*:1]c1cccc(OC)c1"), ("2-methoxyphenyl", "[*:1]c1ccccc1OC"),
               ("3,4-dimethoxyphenyl", "[*:1]c1ccc(OC)c(OC)c1"), ("3,4,5-trimethoxyphenyl", "[*:1]c1cc(OC)c(OC)c(OC)c1")]
ACCEPTORS = [("4-cyanophenyl", "[*:2]c1ccc(C#N)cc1"), ("3-cyanophenyl", "[*:2]c1cccc(C#N)c1"),
             ("3,5-dicyanophenyl", "[*:2]c1cc(C#N)cc(C#N)c1"), ("1-methylpyridinium-4-yl", "[*:2]c1cc[n+](C)cc1"),
             ("1-methylpyridinium-3-yl", "[*:2]c1ccc[n+](C)c1"), ("4-nitrophenyl", "[*:2]c1ccc([N+](=O)[O-])cc1"),
             ("3-nitrophenyl", "[*:2]c1cccc([N+](=O)[O-])c1")]
SPACERS = [("ethane-1,2-diyl", "[*:1]CC[*:2]"), ("propane-1,3-diyl", "[*:1]CCC[*:2]"), ("butane-1,4-diyl", "[*:1]CCCC[*:2]"),
           ("oxybis(methylene)", "[*:1]COC[*:2]"), ("ethyleneoxy", "[*:1]CCO[*:2]"), ("thiobis(methylene)", "[*:1]CSC[*:2]"),
           ("ethyleneoxymethylene", "[*:1]CCOC[*:2]"), ("2-methylpropane-1,3-diyl", "[*:1]CC(C)C[*:2]"),
           ("2,2-dimethylpropane-1,3-diyl", "[*:1]CC(C)(C)C[*:2]")]
SPACERS_PER_PAIR = 3
# the first block's pairs (unit, unit), already there with all seven spacers
FIRST_BLOCK = {frozenset(p) for p in [
    *[(f, d) for f in ("1-pyrenyl", "9-anthryl", "perylen-3-yl", "1-naphthyl") for d in ("4-dimethylaminophenyl", "9-carbazolyl")],
    *[(f, w) for f in ("1-pyrenyl", "9-anthryl", "perylen-3-yl", "1-naphthyl") for w in ("4-methoxyphenyl", "4-hydroxyphenyl")],
    *[(f, f) for f in ("1-pyrenyl", "9-anthryl", "perylen-3-yl", "1-naphthyl")],
    *[(f, a) for f in ("1-pyrenyl", "9-anthryl", "perylen-3-yl", "1-naphthyl", "2-naphthyl", "9-phenanthryl")
      for a in ("4-cyanophenyl", "1-methylpyridinium-4-yl")],
    *[(d, a) for d in ("4-dimethylaminophenyl", "9-carbazolyl", "4-methoxyphenyl") for a in ("4-cyanophenyl", "1-methylpyridinium-4-yl")],
    *[(d, a) for d in ("4-dimethylaminophenyl", "9-carbazolyl", "4-methoxyphenyl", "1-pyrenyl", "9-anthryl", "1-naphthyl", "perylen-3-yl")
      for a in ("4-nitrophenyl", "3,5-dinitrophenyl")]]}

FIRST_BLOCK_UNITS = set().union(*FIRST_BLOCK)


def _to_acceptor_side(smiles: str) -> str:
    return smiles.replace("[*:1]", "[*:2]")


def pairs() -> list:
    """((name, SMILES with [*:1]), (name, SMILES with [*:2]), class) of the new pairs, in a fixed order."""
    def old_unit(unit):
        return unit[0] in FIRST_BLOCK_UNITS

    out = []
    big = FLUOROPHORES[:9]  # the naphthyls only meet acceptors here (their donor and like pairs are in the first block)
    for f in big:  # exciplex pairs: a new unit meets the first block's partners
        out += [(f, (n, _to_acceptor_side(s)), "bichromophore (exciplex)") for n, s in STRONG_DONORS if old_unit(f) or old_unit((n, s))]
    for f in big:
        out += [(f, (n, _to_acceptor_side(s)), "bichromophore (exciplex)") for n, s in WEAK_DONORS]
    for f in FLUOROPHORES:
        out += [(f, a, "bichromophore (electron transfer)") for a in ACCEPTORS if "nitro" not in a[0]]
    for d in STRONG_DONORS:  # charge-transfer pairs: a new unit meets the first block's partners; nitro only with weak donors
        out += [(d, a, "bichromophore (charge transfer)") for a in ACCEPTORS if "nitro" not in a[0] and (old_unit(d) or old_unit(a))]
    for d in WEAK_DONORS:
        out += [(d, a, "bichromophore (charge transfer)") for a in ACCEPTORS]
    for f in FLUOROPHORES[4:9]:
        out.append((f, (f[0], _to_acceptor_side(f[1])), "bichromophore (excimer)"))
    return [p for p in out if frozenset((p[0][0], p[1][0])) not in FIRST_BLOCK]


def dyad_rows() -> list:
    """(name, class, canonical SMILES) of the block."""
    rows = []
    for k, ((name_a, smiles_a), (name_b, smiles_b), kind) in enumerate(pairs()):
        for j in range(SPACERS_PER_PAIR):
            spacer_name, spacer = SPACERS[(k + 3 * j) % len(SPACERS)]
            mol = Chem.molzip(Chem.MolFromSmiles(f"{smiles_a}.{spacer}.{smiles_b}"))
            rows.append((f"{name_a}-{spacer_name}-{name_b}", kind, Chem.MolToSmiles(mol)))
    return rows


if __name__ == "__main__":
    for row in dyad_rows():
        print("\t".join(row))
