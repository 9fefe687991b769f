"""
Evaluation of models trained on samples simulated from a reference atlas (`--train_file ATLAS --simulate N`):

- classification: accuracy of the model and of the logistic-regression baseline on fresh single-tissue samples at
  each read depth of `depths` (new noise draws from a seed no training sample used; the same atlas profiles);
- mixtures: the mixture model next to NNLS on the held-out test split, on fresh cfDNA-like mixtures (blood >= 80%)
  and general mixtures at each depth, and on real mixtures whose column names give their composition.
"""

from dataclasses import replace

import numpy as np
from tqdm.auto import tqdm

from datasets_scripts.tissuebert import BetaMatrix, at_depth, composition_from_name, read_array_matrix, simulate_samples
from datasets_scripts.tissuebert.simulate import measure_sample
from trainers.tissuebert.deconvolution import mixture_metrics, model_proportions, nnls_proportions, real_mixture_report
from trainers.tissuebert.evaluation import predict_samples
from trainers.tissuebert.metrics import tissue_metrics

EVAL_SEED_OFFSET = 1000  # fresh draws: the evaluation simulations use seed + this, the training one seed


def parse_depths(text: str) -> list:
    """'10,5,2,1,array' -> [10.0, 5.0, 2.0, 1.0, None] (None: array-like beta values)."""
    depths = []
    for item in filter(None, (t.strip() for t in str(text).split(","))):
        if item == "array":
            depths.append(None)
            continue
        try:
            depths.append(float(item))
        except ValueError:
            raise ValueError(f"eval_depths: {item!r} is neither a read depth nor 'array'") from None
    return depths


def depth_label(depth) -> str:
    return "array" if depth is None else f"{depth:g}x"


def classification_curve(model, baseline, atlas, simulation, depths, samples: int, seed: int, batch_size: int = 64) -> list:
    """[{depth, model: metrics, baseline: metrics}] on `samples` fresh single-tissue samples per depth."""
    curve = []
    for k, depth in enumerate(tqdm(depths, desc="depth curve", leave=False)):
        config = at_depth(simulation, depth, mixture_fraction=0.0)
        table = simulate_samples(atlas.values, atlas.samples, samples, config, seed=seed + EVAL_SEED_OFFSET + k,
                                 region_names=atlas.probes, source=atlas.source, prefix="eval")
        probabilities, _ = predict_samples(model, table.means, table.coverage, batch_size)
        num = len(atlas.samples)
        curve.append({"depth": depth_label(depth),
                      "model": tissue_metrics(table.tissue_index, probabilities, num),
                      "baseline": tissue_metrics(table.tissue_index, baseline.predict_proba(table.means), num)})
    return curve


def deconvolution_classification_curve(model, atlas, simulation, depths, samples: int, seed: int, baseline_samples: int,
                                       baseline_depth_min: float, batch_size: int = 64) -> list:
    """
    A mixture model as a tissue classifier (its largest proportion) on fresh single-tissue samples per depth, next
    to the logistic regression trained on `baseline_samples` simulated single-tissue samples (the model's simulation,
    single tissues, depths from `baseline_depth_min`) and to NNLS (its largest proportion).
    """
    from trainers.tissuebert.baseline import LogisticRegressionBaseline

    train_config = replace(simulation, mixture_fraction=0.0, depth_min=min(baseline_depth_min, simulation.depth_max))
    train = simulate_samples(atlas.values, atlas.samples, baseline_samples, train_config, seed=seed, region_names=atlas.probes)
    baseline = LogisticRegressionBaseline(len(atlas.samples), seed=seed).fit(train.means, train.tissue_index)
    curve = []
    for k, depth in enumerate(tqdm(depths, desc="classification curve", leave=False)):
        table = simulate_samples(atlas.values, atlas.samples, samples, at_depth(simulation, depth, mixture_fraction=0.0),
                                 seed=seed + EVAL_SEED_OFFSET + k, region_names=atlas.probes, prefix="eval")
        num = len(atlas.samples)
        one_hot = lambda p: np.eye(num)[p.argmax(axis=1)]  # noqa: E731  metrics of the largest share
        curve.append({"depth": depth_label(depth),
                      "model": tissue_metrics(table.tissue_index, model_proportions(model, table.means, table.coverage, batch_size), num),
                      "baseline": tissue_metrics(table.tissue_index, baseline.predict_proba(table.means), num),
                      "nnls": tissue_metrics(table.tissue_index, one_hot(nnls_proportions(atlas.values, table.means)), num)})
    return curve


def blood_indices(atlas, simulation) -> list:
    return [atlas.samples.index(b) for b in simulation.blood_columns if b in atlas.samples]


def mixture_split_report(model, table, index, atlas, simulation, batch_size: int = 64) -> dict:
    """Model and NNLS on the rows `index` of a simulated table: all of them, and the cfDNA-like ones among them."""
    truth, means = table.proportions[index], table.means[index]
    model_pred = model_proportions(model, means, table.coverage[index], batch_size)
    nnls_pred = nnls_proportions(atlas.values, means)
    blood = blood_indices(atlas, simulation)
    report = {"model": mixture_metrics(truth, model_pred, blood), "nnls": mixture_metrics(truth, nnls_pred, blood)}
    cfdna = truth[:, blood].sum(axis=1) >= simulation.blood_min if blood else np.zeros(len(index), bool)
    if cfdna.any():
        report["cfdna"] = {"model": mixture_metrics(truth[cfdna], model_pred[cfdna], blood),
                           "nnls": mixture_metrics(truth[cfdna], nnls_pred[cfdna], blood)}
    return report


def mixture_curve(model, atlas, simulation, depths, samples: int, seed: int, batch_size: int = 64) -> dict:
    """{"cfdna": [...], "mixtures": [...]}: model and NNLS per depth on fresh cfDNA-like / general mixtures."""
    curves = {"cfdna": [], "mixtures": []}
    blood = blood_indices(atlas, simulation)
    for kind, cfdna_fraction in (("cfdna", 1.0), ("mixtures", 0.0)):
        if kind == "cfdna" and not blood:
            continue
        for k, depth in enumerate(tqdm(depths, desc=f"{kind} curve", leave=False)):
            config = at_depth(simulation, depth, mixture_fraction=1.0, cfdna_fraction=cfdna_fraction)
            table = simulate_samples(atlas.values, atlas.samples, samples, config, source=atlas.source, prefix="eval",
                                     seed=seed + EVAL_SEED_OFFSET + 100 * (kind == "cfdna") + k, region_names=atlas.probes)
            truth = table.proportions
            curves[kind].append({
                "depth": depth_label(depth),
                "model": mixture_metrics(truth, model_proportions(model, table.means, table.coverage, batch_size), blood),
                "nnls": mixture_metrics(truth, nnls_proportions(atlas.values, table.means), blood)})
    return curves


def real_mixtures(model, atlas, path, min_overlap: float, simulation=None, read_depths=(), draws: int = 40,
                  seed: int = 0, batch_size: int = 64) -> dict:
    """
    Model and NNLS on a file of real mixtures (probe x mixture; column names give the composition). With
    `read_depths`, also `draws` read samples of each real mixture at each depth (binomial calls from its beta
    values, `simulation`'s depth dispersion and missing calls): `at_depth` = [{depth, model, nnls}] metrics.
    """
    mixtures = read_array_matrix(path)
    means = mixtures.aligned(atlas.probes, min_overlap)
    truth = np.array([[composition_from_name(name, atlas.samples).get(t, 0.0) for t in atlas.samples]
                      for name in mixtures.samples])
    present = ~np.isnan(means)
    model_pred = model_proportions(model, means, present.astype(np.float32), batch_size)
    report = real_mixture_report(mixtures.samples, truth, model_pred, nnls_proportions(atlas.values, means), atlas.samples)
    report.update(file=str(path), probes_used=int(present.any(axis=0).sum()), repeated_rows=mixtures.repeated_rows,
                  at_depth=[])
    rng = np.random.default_rng(seed + EVAL_SEED_OFFSET + 500)
    for depth in read_depths:
        config = at_depth(simulation, depth)
        reads = [measure_sample(np.nan_to_num(beta), config, rng) for beta in means for _ in range(draws)]
        read_means = np.where(np.repeat(present, draws, axis=0), np.stack([r[0] for r in reads]), np.nan).astype(np.float32)
        coverage = np.stack([r[1] for r in reads]).astype(np.float32)
        repeated_truth = np.repeat(truth, draws, axis=0)
        report["at_depth"].append({
            "depth": depth_label(depth), "draws_per_mixture": draws,
            "model": mixture_metrics(repeated_truth, model_proportions(model, read_means, coverage, batch_size)),
            "nnls": mixture_metrics(repeated_truth, nnls_proportions(atlas.values, read_means))})
    return report


def atlas_of(model) -> BetaMatrix:
    """The reference atlas a mixture model holds, as a `BetaMatrix` (probes = its regions, columns = its tissues)."""
    config = model.config
    if config.model_kind != "mixture" or not config.regions:
        raise ValueError("only a mixture model holds its reference atlas; give --train_file ATLAS for this model")
    reference = model.tissuebert.reference.detach().cpu().numpy().astype(np.float64)
    return BetaMatrix(list(config.regions), [config.id2label[i] for i in range(config.num_labels)], reference,
                      "the model's reference atlas")

