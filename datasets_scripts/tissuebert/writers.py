"""Write the embedded atlas in the notes' layouts: npz per sample, HDF5, wgbstools .beta, beta table (+ metadata, BED)."""

import csv
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from modeling.tissuebert.tokenization_tissuebert import MISSING, METHYLATED

from .generator import MethylationAtlas


def write_metadata(atlas: MethylationAtlas, path, filenames=None) -> Path:
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "tissue", "tissue_index", "subtype", "group", "augmented"])
        for i, name in enumerate(filenames or atlas.filenames):
            writer.writerow([name, atlas.tissue[i], int(atlas.tissue_index[i]), atlas.subtype[i], atlas.group[i],
                             int(atlas.augmented[i])])
    return path


def write_region_bed(atlas: MethylationAtlas, path) -> Path:
    """chr start end startCpG endCpG name, the wgbstools region layout."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as handle:
        for name, (first, last) in zip(atlas.region_names, atlas.region_cpg_ranges):
            chrom, span = name.split(":")
            start, end = span.split("-")
            handle.write(f"{chrom}\t{start}\t{end}\t{first}\t{last}\t{name}\n")
    return path


def write_npz_folder(atlas: MethylationAtlas, folder, progress: bool = True) -> Path:
    """`file_042_Liver.npz` per sample (dna_tokens, methylation, tissue_label) + metadata.csv + regions.bed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in tqdm(range(atlas.num_samples), desc="writing npz", disable=not progress, leave=False):
        np.savez_compressed(folder / atlas.filenames[i], dna_tokens=atlas.dna_tokens, methylation=atlas.methylation(i),
                            tissue_label=np.int64(atlas.tissue_index[i]))
    write_metadata(atlas, folder / "metadata.csv")
    write_region_bed(atlas, folder / "regions.bed")
    return folder


def write_hdf5(atlas: MethylationAtlas, path, progress: bool = True) -> Path:
    """One HDF5 file (chunked per sample) + metadata.csv beside it."""
    from .readers import _h5py

    h5py = _h5py()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (atlas.num_samples, atlas.num_regions, atlas.dna_tokens.shape[1])
    with h5py.File(path, "w") as handle:
        handle["dna_tokens"] = atlas.dna_tokens
        methylation = handle.create_dataset("methylation", shape=shape, dtype="uint8", chunks=(1, *shape[1:]),
                                            compression="gzip", compression_opts=1)
        for i in tqdm(range(atlas.num_samples), desc="writing HDF5", disable=not progress, leave=False):
            methylation[i] = atlas.methylation(i)
        handle["tissue_labels"] = atlas.tissue_index
        handle["filenames"] = np.array(atlas.filenames, dtype="S")
        handle["regions"] = np.array(atlas.region_names, dtype="S")
        handle.attrs["tissues"] = np.array(atlas.tissues, dtype="S")
    write_metadata(atlas, path.with_name("metadata.csv"))
    return path


def beta_arrays(atlas: MethylationAtlas, i: int) -> np.ndarray:
    """(num_genome_cpgs, 2) uint8 (methylated, coverage) of sample i: one call per called CpG, 0 outside regions."""
    states = atlas.methylation(i)
    pairs = np.zeros((atlas.num_genome_cpgs, 2), dtype=np.uint8)
    for r, (first, _) in enumerate(atlas.region_cpg_ranges):
        calls = states[r][atlas.cpg_mask[r]]  # CpGs of the region in position order
        index = first + np.arange(calls.shape[0])
        pairs[index, 1] = calls != MISSING
        pairs[index, 0] = calls == METHYLATED
    return pairs


def write_beta_folder(atlas: MethylationAtlas, folder, progress: bool = True) -> Path:
    """`<stem>.beta` per sample + regions.bed + metadata.csv (filenames ending in .beta)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [Path(f).stem + ".beta" for f in atlas.filenames]
    for i in tqdm(range(atlas.num_samples), desc="writing .beta", disable=not progress, leave=False):
        beta_arrays(atlas, i).tofile(folder / names[i])
    write_region_bed(atlas, folder / "regions.bed")
    write_metadata(atlas, folder / "metadata.csv", names)
    return folder


def write_beta_table(atlas: MethylationAtlas, path, means=None) -> Path:
    """Region x sample TSV (chr start end startCpG endCpG, one column per sample, NA = missing) + metadata.csv."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    means = atlas.region_features(progress=False)[0] if means is None else means
    names = [Path(f).stem for f in atlas.filenames]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\t".join(["chr", "start", "end", "startCpG", "endCpG", *names]) + "\n")
        for r, (name, (first, last)) in enumerate(zip(atlas.region_names, atlas.region_cpg_ranges)):
            chrom, span = name.split(":")
            values = ["NA" if np.isnan(v) else f"{v:.6g}" for v in means[:, r]]
            handle.write("\t".join([chrom, *span.split("-"), str(first), str(last), *values]) + "\n")
    write_metadata(atlas, path.with_name("metadata.csv"), names)
    return path


WRITERS = {"npz": write_npz_folder, "hdf5": write_hdf5, "beta": write_beta_folder, "table": write_beta_table}


def main(argv=None) -> Path:
    """
    Write the embedded atlas to disk, e.g. to try `biohf diagnose` / `biohf predict` on files:

        python -m datasets_scripts.tissuebert.writers --format npz --output samples/
        python -m datasets_scripts.tissuebert.writers --format hdf5 --output atlas/atlas.h5 --size full
    """
    import argparse

    from .generator import generate_atlas

    parser = argparse.ArgumentParser(prog="python -m datasets_scripts.tissuebert.writers", description=main.__doc__.split("\n\n")[0].strip())
    parser.add_argument("--format", choices=list(WRITERS), default="npz",
                        help="npz: a folder of per-sample .npz; hdf5: one file; beta: a folder of wgbstools .beta; table: a region x sample TSV")
    parser.add_argument("--output", required=True, help="a folder (npz, beta) or a file path (hdf5, table)")
    parser.add_argument("--size", default="demo", help="tiny, demo or full (default: demo)")
    parser.add_argument("--regions", type=int, help="any number of regions instead of the size's (e.g. 51089)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    atlas = generate_atlas(args.size, seed=args.seed, num_regions=args.regions)
    path = WRITERS[args.format](atlas, args.output)
    print(f"{atlas.num_samples} samples x {atlas.num_regions} regions written as {args.format} to {path}")
    return path


if __name__ == "__main__":
    main()
