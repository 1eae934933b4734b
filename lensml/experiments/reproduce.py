"""``lensml benchmark reproduce``: re-run a paper's table under the one protocol.

A *table* is a list of rows, each an experiment config in ``train/`` (one per paper table
row) and the published number it reproduces (``lensml.evaluation.published``). Every row
is trained with ``lensml.experiments.run_seed`` on the stored splits of its dataset, for
each seed, and tested with ``lensml.evaluation`` (the runner's test evaluation); the
Markdown table puts the paper's number beside lensml's mean +- std over seeds.

Scales:

- ``paper``: the configs as they are (published data sizes, epochs, seeds): a GPU machine.
- ``small``: a laptop CPU in under an hour per table: a ``<family>_n<per_class>`` dataset
  (``lensml.datasets.sized_config``), fewer epochs and seeds, a larger
  learning rate for the few steps (all stated in the table header). Numbers are not the
  paper's; the ranking is what to compare.
- ``tiny``: a few images, one epoch, narrow models: the test suite's smoke run.

Rows that need a piece lensml lacks (a config) or that this harness does not run yet (SSL
pretraining chained with ``lensml finetune``) are listed with the reason and the commands
that run them, instead of a number. Seeds run in the outer loop, so a time budget that runs
out still leaves every row with its first seeds.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Callable

#: lensml's columns: (metrics key written by the runner, header).
COLUMNS = (("test_accuracy", "accuracy"), ("test_micro_f1", "micro F1"), ("test_macro_auc", "macro AUC"))


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of a paper table.

    ``config``: the experiment config under ``train/`` (None: lensml has none).
    ``paper_model`` / ``paper_dataset`` / ``source``: which ``Published`` entries hold the
    paper's numbers (``source`` is a substring of ``Published.source``).
    ``needs``: "pretrain" for rows that need a self-supervised pretraining stage
    (``pretrain``: its config; ``config`` is then the fine-tuning config), "finetune" for rows
    trained by ``lensml finetune`` (the SSL papers' from-scratch baselines).
    """

    label: str
    config: str | None
    paper_model: str
    paper_dataset: str
    source: str
    needs: str | None = None
    note: str = ""
    pretrain: str | None = None


@dataclasses.dataclass(frozen=True)
class Table:
    """A paper table: its rows, the published metrics shown, the small scale."""

    name: str
    title: str
    metrics: tuple[str, ...]
    rows: tuple[Row, ...]
    small_per_class: int = 300
    note: str = ""


_OJHA, _JEPA, _D4, _DESH, _MAE = "Ojha", "Lens-JEPA", "Aditya26189", "Deshmukh", "2512.06642"

TABLES: dict[str, Table] = {
    "lenspinn": Table(
        "lenspinn", "LensPINN (NeurIPS 2024 ML4PS) Table 1: Model II, 3,000 images per class",
        ("accuracy",),
        tuple(Row(label, f"train/{cfg}_model_ii_3k.toml", cfg, "model_ii_3k", _OJHA) for label, cfg in (
            ("ResNet18", "resnet18"), ("ViT", "vit"), ("CaiT", "cait"), ("ViTSD", "vitsd"),
            ("Lensformer", "lensformer"), ("LensPINN_small", "lenspinn_small"), ("LensPINN_large", "lenspinn_large"),
        )),
        # 7 rows x 2 seeds, four of them 14M-parameter transformers: 250 per class keeps the
        # whole table under an hour on a 2-core CPU (300 per class took ~56 min).
        small_per_class=250,
    ),
    "lens_jepa": Table(
        "lens_jepa", "Lens-JEPA (NeurIPS 2025 ML4PS) Table 1: fine-tuned on Model B (= Model II), 3,000 per class",
        ("accuracy", "auc_per_class/axion", "auc_per_class/cdm", "auc_per_class/no_sub"),
        tuple(Row(label, f"train/{cfg}_model_ii_3k_lensjepa.toml", cfg, "model_ii_3k", _JEPA) for label, cfg in (
            ("ResNet18", "resnet18"), ("CaiT", "cait"), ("ViTSD", "vitsd"), ("ViT", "vit"), ("Lensformer", "lensformer"),
        )) + (
            Row("I-JEPA", "train/ssl/finetune_ijepa_model_ii_3k.toml", "ijepa", "model_ii_3k", _JEPA, "pretrain",
                "pretrained on Model A (~ model_i)", "train/ssl/pretrain_ijepa_model_i.toml"),
            Row("Lens-JEPA", "train/ssl/finetune_lens_jepa_model_ii_3k.toml", "lens_jepa", "model_ii_3k", _JEPA,
                "pretrain", "pretrained on Model A (~ model_i)", "train/ssl/pretrain_lens_jepa_model_i.toml"),
        ),
    ),
    "d4lenspinn": Table(
        "d4lenspinn", "D4LensPINN write-up: 150x150 no/sphere/vort, 3k test (lensml: Model I, 150x150)",
        ("macro_auc", "accuracy"),
        (
            Row("D4LensPINN", "train/d4lenspinn_model_i.toml", "d4lenspinn", "no_sphere_vort_150", _D4),
            Row("VanillaLensPINN", None, "vanilla_lenspinn", "no_sphere_vort_150", _D4),
            Row("ResNet18 (scratch)", "train/resnet18_model_i.toml", "resnet18", "no_sphere_vort_150", _D4),
        ),
        small_per_class=150,
        note="The paper's dataset (PyAutoLens no/sphere/vort, 150x150) is not simulated by lensml; "
             "lensml runs the same models on Model I (150x150, 0.05\").",
    ),
    "ssl": Table(
        "ssl", "Self-supervised DeepLense (Deshmukh): per-class AUC axion/cdm/no_sub on Models I/II/III",
        ("auc_per_class/axion", "auc_per_class/cdm", "auc_per_class/no_sub"),
        tuple(Row(f"{label} ({fam})", None if fam == "model_i" else f"train/ssl/{prefix}_{stem}_{fam}.toml", model, fam,
                  _DESH, needs, "", None if needs != "pretrain" or fam == "model_i" else f"train/ssl/pretrain_{stem}_{fam}.toml")
              for label, model, needs, prefix, stem in (
                  ("SimCLR (rotation)", "simclr", "pretrain", "finetune", "simclr_rotation_resnet50"),
                  ("BYOL", "byol", "pretrain", "finetune", "byol_resnet50"),
                  ("ResNet50 (supervised)", "resnet50", "finetune", "scratch", "resnet50"))
              for fam in ("model_i", "model_ii", "model_iii")),
    ),
    "mae": Table(
        "mae", "Masked autoencoders for DeepLense (arXiv:2512.06642): classification",
        ("macro_auc", "accuracy"),
        (
            Row("MAE ViT (mask 0.90)", "train/ssl/finetune_mae_vit_mask90_model_ii.toml", "mae_vit", "mae_benchmark",
                _MAE, "pretrain", "lensml: Model II", "train/ssl/pretrain_mae_vit_mask90_model_ii.toml"),
            Row("ViT (scratch)", "train/ssl/scratch_vit_model_ii.toml", "vit", "mae_benchmark", _MAE, "finetune",
                "lensml: Model II"),
        ),
    ),
}


@dataclasses.dataclass(frozen=True)
class Scale:
    """How a scale changes every row's config (None: keep the config's value)."""

    name: str
    per_class: int | None = None
    epochs: int | None = None
    seeds: tuple[int, ...] | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    tiny_models: bool = False

    def describe(self, table: Table) -> str:
        if self.name == "paper":
            return "Scale paper: each config as published (data size, epochs, seeds, optimiser)."
        per_class = self.per_class or table.small_per_class
        from lensml.datasets import split_sizes

        tr, va, te = split_sizes(per_class)
        parts = [f"{per_class} images per class ({tr}/{va}/{te} train/validation/test) instead of the config's dataset",
                 f"{self.epochs} epoch(s)", f"seeds {list(self.seeds)}"]
        if self.batch_size:
            parts.append(f"batch {self.batch_size}")
        if self.learning_rate:
            parts.append(f"peak learning rate {self.learning_rate:g} with a cosine schedule (few steps need larger ones)")
        if self.tiny_models:
            parts.append("narrow models (smoke test)")
        return (f"Scale {self.name}: " + "; ".join(parts) + ". Optimiser and everything else as in each config. "
                "These numbers are not the paper's scale: compare the ranking, not the values.")


SCALES = {
    "paper": Scale("paper"),
    "small": Scale("small", epochs=3, seeds=(0, 1), batch_size=32, learning_rate=1e-3),
    "tiny": Scale("tiny", per_class=8, epochs=1, seeds=(0,), batch_size=16, learning_rate=1e-3, tiny_models=True),
}


def paper_values(table: Table, row: Row) -> dict[str, float]:
    """{metric: published value} of ``row`` for the table's metrics."""
    from lensml.evaluation.published import PUBLISHED

    out = {}
    for p in PUBLISHED:
        if p.model == row.paper_model and p.dataset == row.paper_dataset and row.source in p.source \
                and p.metric in table.metrics:
            out[p.metric] = p.value
    return out


def unavailable_reason(row: Row, root: Path) -> str | None:
    """Why ``row`` cannot run in this checkout (None: it can)."""
    if row.config is None:
        return "not available: lensml has no config for this row in train/"
    for path in (row.pretrain, row.config):
        if path and not (root / path).is_file():
            return f"not available: {path} does not exist"
    if row.needs == "pretrain":
        return (f"not run: reproduce does not chain SSL pretraining and fine-tuning yet; run `lensml pretrain "
                f"--config {row.pretrain}` then `lensml finetune --config {row.config}`")
    if row.needs == "finetune":
        return f"not run: reproduce does not run lensml finetune configs yet; run `lensml finetune --config {row.config}`"
    return None


def scaled_config(row: Row, scale: Scale, out: Path, root: Path, table: Table, data_dir: str | None = None):
    """The row's config with the scale's overrides; output under ``out/runs/<config stem>/seed_<k>``."""
    from lensml.experiments.config import apply_overrides, load_config

    config = load_config(root / row.config)
    over: dict = {"output.dir": str(out / "runs" / Path(row.config).stem / "seed_{seed}"),
                  "training.verbose": 2}
    if data_dir:
        over["data.data_dir"] = str(data_dir)
    if scale.name != "paper":
        from lensml.datasets import Deeplense, sized_config
        from lensml.experiments.quickstart import TINY_MODEL_OPTIONS

        family = Deeplense.builder_configs[config.data.dataset.split("/")[-1]].family
        over["data.dataset"] = sized_config(family, scale.per_class or table.small_per_class)
        ratio = scale.epochs / config.training.epochs
        over["training.epochs"] = scale.epochs
        over["seeds"] = list(scale.seeds)
        # Schedules and phases measured in epochs shrink with the run.
        if config.training.warmup_epochs:
            over["training.warmup_epochs"] = config.training.warmup_epochs * ratio
        if config.training.physics_phase2_epoch is not None:
            phase2 = config.training.physics_phase2_epoch
            over["training.physics_phase2_epoch"] = min(scale.epochs - 1, max(1, round(phase2 * ratio))) if phase2 else 0
        if scale.batch_size:
            over["data.batch_size"] = scale.batch_size
        if scale.learning_rate:
            over["training.learning_rate"] = scale.learning_rate
            if config.training.schedule == "constant":
                over["training.schedule"] = "cosine"
        if config.data.steps_per_epoch and config.data.source != "stream":
            over["data.steps_per_epoch"] = None  # a stream keeps its epoch length
        if scale.tiny_models:
            opts = dict(config.model.options)
            opts.update(TINY_MODEL_OPTIONS.get(config.model.name, {}))
            over["model.options"] = opts
    return apply_overrides(config, over)


def _mean_std(values: list[float]) -> tuple[float, float, int] | None:
    """(mean, sample std, count) of the numbers in ``values``; None if there are none."""
    values = [v for v in values if isinstance(v, (int, float))]
    if not values:
        return None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0), len(values)


def _cell(stats, digits: int = 3) -> str:
    if stats is None:
        return "n/a"
    mean, std, n = stats
    return f"{mean:.{digits}f} +- {std:.{digits}f}" if n > 1 else f"{mean:.{digits}f} (1 seed)"


def render_table(table: Table, scale: Scale, results: dict, header_extra: str = "") -> str:
    """The Markdown table of ``results`` = {row label: {"status", "runs": [metrics dicts], ...}}."""
    paper_cols = [m.replace("auc_per_class/", "AUC ").replace("macro_auc", "macro AUC") for m in table.metrics]
    head = ["row", "config", "seeds"] + [f"paper {c}" for c in paper_cols] + [f"lensml {h}" for _, h in COLUMNS] \
        + ["params", "status"]
    lines = [f"# Reproduction: {table.title}", "", scale.describe(table), ""]
    if table.note:
        lines += [table.note, ""]
    if header_extra:
        lines += [header_extra, ""]
    lines += ["Paper numbers from lensml.evaluation.published (REFERENCE section 8); lensml numbers: mean +- std "
              "over seeds of the test split of the stored splits (lensml.evaluation protocol).", "",
              "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table.rows:
        r = results.get(row.label, {})
        runs = r.get("runs", [])
        paper = paper_values(table, row)
        cells = [row.label + (f" ({row.note})" if row.note else ""), f"`{row.config}`" if row.config else "-",
                 str(len(runs))]
        cells += [f"{paper[m]:.4g}" if m in paper else "-" for m in table.metrics]
        cells += [_cell(_mean_std([m.get(key) for m in runs])) if runs else "-" for key, _ in COLUMNS]
        cells.append(f"{r['num_params']:,}" if r.get("num_params") else "-")
        cells.append(r.get("status", "not run"))
        lines.append("| " + " | ".join(cells) + " |")
    ranking = rank(table, results)
    if ranking:
        lines += ["", "Ranking by " + ranking["metric"] + ":", "",
                  f"- paper:  {format_ranking(ranking['paper'])}", f"- lensml: {format_ranking(ranking['lensml'])}"]
    return "\n".join(lines) + "\n"


def rank(table: Table, results: dict, digits: int = 3) -> dict | None:
    """Rows with both a paper number and lensml runs, ranked by the table's first metric both ways.

    Each ranking is a list of tiers, best first; a tier holds the rows whose values are equal at
    the table's ``digits`` (e.g. every row at chance, 0.333), so ties are shown as ties and not
    in an arbitrary order."""
    metric = table.metrics[0]
    key = {"accuracy": "test_accuracy", "macro_auc": "test_macro_auc"}.get(metric)
    if key is None:
        return None
    both = []
    for row in table.rows:
        paper = paper_values(table, row).get(metric)
        stats = _mean_std([m.get(key) for m in results.get(row.label, {}).get("runs", [])])
        if paper is not None and stats is not None:
            both.append((row.label, paper, stats[0]))
    if len(both) < 2:
        return None

    def tiers(column: int) -> list[list[str]]:
        groups: dict[float, list[str]] = {}
        for b in both:
            groups.setdefault(round(b[column], digits), []).append(b[0])
        return [groups[v] for v in sorted(groups, reverse=True)]

    return {"metric": metric, "paper": tiers(1), "lensml": tiers(2)}


def format_ranking(tiers: list[list[str]]) -> str:
    """``[["A"], ["B", "C"]]`` -> ``"A > B = C"``."""
    return " > ".join(" = ".join(tier) for tier in tiers)


def reproduce(table: str, scale: str = "small", out="reproduce", *, rows=None, root=".", data_dir=None,
              max_minutes: float | None = None, log: Callable[[str], None] | None = None) -> dict:
    """Run every available row of ``table`` at ``scale`` and write ``out/<table>_<scale>.md`` / ``.json``.

    Args:
      table: a key of ``TABLES`` ("lenspinn", "lens_jepa", "d4lenspinn", "ssl", "mae").
      scale: "small", "paper" or "tiny" (see the module docstring).
      rows: row labels, model names or config stems to run, in the order to run them (others are
        listed as "skipped"); None = all, in the table's order.
      root: the repository root holding ``train/``.
      max_minutes: start no new run after this many minutes (rows left get "not run").

    Returns:
      {"markdown": path, "json": path, "results": {row label: {...}}}.
    """
    from lensml.experiments import run_seed
    from lensml.experiments.quickstart import eager_callback, eager_is_faster

    log = log or (lambda msg: print(f"[reproduce] {msg}", flush=True))
    if table not in TABLES:
        raise ValueError(f"table: unknown table {table!r}; expected one of {sorted(TABLES)}")
    if scale not in SCALES:
        raise ValueError(f"scale: unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    spec, sc, root, out = TABLES[table], SCALES[scale], Path(root), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = out / f"{table}_{scale}.md", out / f"{table}_{scale}.json"
    start = time.time()
    wanted = None if rows is None else set(rows)
    results: dict[str, dict] = {}
    plan = []
    order = list(spec.rows)
    if rows is not None:  # --rows also gives the order to run in (the table keeps the paper's order)
        pos = {name: i for i, name in enumerate(rows)}
        order.sort(key=lambda r: min(pos.get(r.label, 1e9), pos.get(r.paper_model, 1e9),
                                     pos.get(Path(r.config).stem if r.config else "", 1e9)))
    for row in order:
        stem = Path(row.config).stem if row.config else None
        if wanted is not None and row.label not in wanted and stem not in wanted and row.paper_model not in wanted:
            results[row.label] = {"status": "skipped (not in --rows)"}
            continue
        reason = unavailable_reason(row, root)
        if reason:
            results[row.label] = {"status": reason}
            continue
        config = scaled_config(row, sc, out, root, spec, data_dir)
        results[row.label] = {"status": "pending", "runs": [], "config": str(root / row.config)}
        plan.append((row, config))

    def write():
        elapsed = (time.time() - start) / 60
        extra = f"Wall time {elapsed:.1f} min."
        md_path.write_text(render_table(spec, sc, results, extra))
        json_path.write_text(json.dumps({"table": table, "scale": scale, "minutes": elapsed, "results": results},
                                        indent=2, default=str) + "\n")

    seeds = sorted({s for _, c in plan for s in c.seeds})
    for seed in seeds:  # seeds outermost: a budget that runs out leaves every row its first seeds
        for row, config in plan:
            if seed not in config.seeds:
                continue
            r = results[row.label]
            if max_minutes is not None and (time.time() - start) / 60 > max_minutes:
                r["status"] = f"{len(r['runs'])} of {len(config.seeds)} seeds (time budget {max_minutes:g} min)"
                continue
            log(f"{row.label} seed {seed}: training {config.model.name} on {config.data.dataset} "
                f"({config.training.epochs} epochs) ...")
            try:
                res = run_seed(config, seed, callbacks=[eager_callback()] if eager_is_faster(sc.tiny_models) else [])
            except Exception as e:  # one failing row must not lose the table
                r["status"] = f"failed: {type(e).__name__}: {e}"[:300]
                log(f"{row.label} seed {seed} failed: {e}")
                write()
                continue
            r["runs"].append({k: v for k, v in res["metrics"].items() if isinstance(v, (int, float))})
            r["num_params"] = res["num_params"]
            r.setdefault("dirs", []).append(res["paths"]["dir"])
            r["status"] = "ok" if len(r["runs"]) == len(config.seeds) else f"{len(r['runs'])} of {len(config.seeds)} seeds"
            log(f"{row.label} seed {seed}: test accuracy {res['metrics'].get('test_accuracy', float('nan')):.3f} "
                f"({res['train_time_s']:.0f} s)")
            write()
    write()
    log(f"table written to {md_path.resolve()}")
    return {"markdown": str(md_path), "json": str(json_path), "results": results}
