"""TFDS builder ``deeplense``: DeepLense-style lensing images simulated with lenstronomy.

Registered on ``import lensml``, so ``tfds.load("deeplense/model_ii_tiny")`` works. The
dataset card, citation and checksums live in the TFDS folder ``datasets/deeplense/`` of the
repository; ``tfds build datasets/deeplense --config model_ii_tiny`` builds from there (TFDS's
command line needs Apache Beam: ``pip install 'lensml[beam]'``).

Configs (per class; the class of example i of a split is i % C for C classes, so splits are balanced):

- ``model_i``, ``model_ii``, ``model_iii``: 30,000 train, 3,000 validation, 5,000 test.
- ``model_i_published``, ``model_ii_published``, ``model_iii_published`` (and their ``_3k``,
  ``_tiny``, ``_n<N>``): the published-compatible variants, the data as the public simulator
  wrote them (Models II/III: twice the noise-free model; Model I: Poisson counts; 1.28"
  luminosity-distance Einstein radii), which the papers trained on.
- ``no_sphere_vort`` (8,000 / 1,000 / 1,000), ``lens_jepa_model_a``, ``lens_jepa_model_b`` (``_3k``,
  ``_tiny``, ``_n<N>``): the D4LensPINN and Lens-JEPA papers' own data (classes no / sphere /
  vort, and no_sub / cdm / axion).
- ``*_3k``: 3,000 in all, 80:20 train/test (2,400 / 600), with 10 % of the train part
  as validation (train 2,160, validation 240, test 600).
- ``*_tiny``: 8 train, 4 validation, 4 test (tests and demos; builds in seconds).
- ``<family>_n<N>`` for any registered family and N >= 5: N examples per class in the
  ``*_3k`` proportions (``split_sizes``), made on demand when the name is first asked for
  (``tfds.load("deeplense/model_ii_n300")``; quickstart and the reproduction harness use them).
- ``model_ii_sr16``, ``model_ii_sr32``, ``model_iii_sr16``, ``model_iii_sr32`` (and
  ``model_ii_sr16_tiny``): super-resolution pairs, 64x64 high resolution with 16x16 or
  32x32 low resolution of the same lens, the ``*_3k`` sizes; ``<family>_sr<L>_n<N>`` any
  family's pairs with an L x L low resolution and N per class (``sized_config(family, N, L)``).

Every example is regenerated alone from (family, split, index, seed): the same dataset,
byte for byte, for any number of worker processes or Beam workers.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import tensorflow_datasets as tfds

from lensml.simulation.families import (FAMILIES, PAPER_FAMILIES, PUBLISHED_FAMILIES, REALISTIC_FAMILIES,
                                        get_family)

VERSION = tfds.core.Version("1.0.0")

DESCRIPTION = """\
Simulated strong gravitational lensing images in the style of the DeepLense Models I, II
and III (mwt5345/DeepLenseSim), rendered with lenstronomy: an SIE main deflector (Einstein
radius of a 1e12 Msun point mass at z=0.5, angular-diameter distances) with external shear,
an elliptical Sersic source at z=1 with a random centre, and three classes: no substructure
(no_sub), 25 CDM point-mass subhalos (cdm), and an axion vortex of 100 point masses on a
line of half-length 0.03" x (1e-22 eV / m_a) (axion). The two defects of the public
simulator are fixed: images are model + noise (not twice the model), and the HST
instrument of Model III exists. The *_published configs reproduce the public simulator as it
wrote the data the papers trained on (Models II/III stored as twice the noise-free model,
Model I as Poisson counts, luminosity-distance Einstein radii). Besides the image, each example stores the label, log10 of
the axion mass (NaN unless axion), the Einstein radius, the source centre and the true
convergence map. The no_sphere_vort configs are the D4LensPINN paper's data (PyLensing's recipe:
SIS with random shear and lens light; no substructure, 25 point masses in a 1" disk, or 25 on
a 1" line), and lens_jepa_model_a / lens_jepa_model_b Lens-JEPA's (an SIS, truncated-NFW
subhalos, a 1e-23 eV axion vortex; a generic and a Euclid-like instrument). See
datasets/deeplense/README.md for the dataset card.
"""

CITATION = """\
@article{alexander2020deep,
  title   = {Deep Learning the Morphology of Dark Matter Substructure},
  author  = {Alexander, Stephon and Gleyzer, Sergei and McDonough, Evan and Toomey, Michael W. and Usai, Emanuele},
  journal = {The Astrophysical Journal},
  volume  = {893},
  number  = {1},
  pages   = {15},
  year    = {2020},
  doi     = {10.3847/1538-4357/ab7925}
}
@article{birrer2018lenstronomy,
  title   = {lenstronomy: Multi-purpose gravitational lens modelling software package},
  author  = {Birrer, Simon and Amara, Adam},
  journal = {Physics of the Dark Universe},
  volume  = {22},
  pages   = {189--201},
  year    = {2018},
  doi     = {10.1016/j.dark.2018.11.002}
}
"""

SPLITS = ("train", "validation", "test")
#: Fractions of a sized config's examples per class that go to (train, validation, test):
#: those of the ``*_3k`` configs (2,160 / 240 / 600 of 3,000).
SPLIT_FRACTIONS = (0.72, 0.08, 0.20)
_SIZED = re.compile(r"^(?P<family>\w+?)(?:_sr(?P<lr>\d+))?_n(?P<per_class>-?\d+)$")


def split_sizes(per_class: int) -> tuple[int, int, int]:
    """(train, validation, test) examples per class for ``per_class`` in all (>= 5), in the
    ``*_3k`` proportions; validation and test get at least one example each."""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 5:
        raise ValueError(f"per_class: expected an integer >= 5 (examples per class), got {per_class!r}")
    test = max(1, round(SPLIT_FRACTIONS[2] * per_class))
    val = max(1, round(SPLIT_FRACTIONS[1] * per_class))
    return per_class - val - test, val, test


@dataclasses.dataclass
class DeeplenseConfig(tfds.core.BuilderConfig):
    """A family and split sizes (examples per class). ``sr_factor`` > 0 makes a
    super-resolution config whose ``lr`` images have ``sr_factor`` times coarser pixels."""

    family: str = "model_ii"
    train_per_class: int = 8
    validation_per_class: int = 4
    test_per_class: int = 4
    sr_factor: int = 0
    seed: int = 0

    def per_class(self, split: str) -> int:
        return getattr(self, f"{split}_per_class")


def _configs() -> list[DeeplenseConfig]:
    sizes = {
        "": (30_000, 3_000, 5_000, "30,000/3,000/5,000 per class (train/validation/test)"),
        "_3k": (2_160, 240, 600, "3,000 per class, 80:20 train/test, 10% of train as validation"),
        "_tiny": (8, 4, 4, "8/4/4 per class, for tests and demos"),
    }
    out = []
    for fam in REALISTIC_FAMILIES + PUBLISHED_FAMILIES:
        for suffix, (tr, va, te, what) in sizes.items():
            out.append(DeeplenseConfig(
                name=f"{fam}{suffix}", version=VERSION, family=fam, train_per_class=tr,
                validation_per_class=va, test_per_class=te,
                description=f"{FAMILIES[fam].description} {what}.",
            ))
    # The seed papers' own data: _3k and _tiny, and the D4LensPINN paper's 24,000 / 3,000 / 3,000.
    paper_sizes = {"_3k": sizes["_3k"], "_tiny": sizes["_tiny"]}
    for fam in PAPER_FAMILIES:
        fam_sizes = dict(paper_sizes)
        if fam == "no_sphere_vort":
            fam_sizes[""] = (8_000, 1_000, 1_000, "8,000/1,000/1,000 per class, the paper's 80:10:10 of 30,000")
        for suffix, (tr, va, te, what) in fam_sizes.items():
            out.append(DeeplenseConfig(
                name=f"{fam}{suffix}", version=VERSION, family=fam, train_per_class=tr,
                validation_per_class=va, test_per_class=te,
                description=f"{FAMILIES[fam].description} {what}.",
            ))
    tr, va, te, _ = sizes["_3k"]
    for fam in ("model_ii", "model_iii"):
        for lr_pix in (16, 32):
            factor = FAMILIES[fam].instrument.num_pix // lr_pix
            out.append(DeeplenseConfig(
                name=f"{fam}_sr{lr_pix}", version=VERSION, family=fam, train_per_class=tr,
                validation_per_class=va, test_per_class=te, sr_factor=factor,
                description=f"Super-resolution pairs of {fam}: 64x64 'hr' and {lr_pix}x{lr_pix} "
                f"'lr' (pixels {factor}x coarser, same field of view), {tr}/{va}/{te} per class.",
            ))
    out.append(DeeplenseConfig(
        name="model_ii_sr16_tiny", version=VERSION, family="model_ii", sr_factor=4,
        description="Super-resolution pairs of model_ii, 64x64 / 16x16, 8/4/4 per class.",
    ))
    return out


def sized_config(family: str, per_class: int, lr_pixels: int | None = None) -> str:
    """Register (once per process) the config ``<family>_n<per_class>`` and return its TFDS
    name, e.g. ``"deeplense/model_ii_n300"``: the family's simulator with
    ``split_sizes(per_class)`` examples per class. ``lr_pixels`` (e.g. 16) makes the
    super-resolution pairs ``<family>_sr<lr_pixels>_n<per_class>`` instead (64x64 'hr' beside
    a ``lr_pixels`` square 'lr' of the same field). The same seed and sizes give the same
    examples in any process; ``tfds.load`` of such a name registers it by itself.
    """
    if family not in FAMILIES:
        raise ValueError(f"family: unknown dataset family {family!r}; expected one of {sorted(FAMILIES)}")
    train, val, test = split_sizes(per_class)
    num_pix = FAMILIES[family].instrument.num_pix
    factor = 0
    if lr_pixels is not None:
        if isinstance(lr_pixels, bool) or not isinstance(lr_pixels, int) or lr_pixels < 1 or num_pix % lr_pixels:
            raise ValueError(f"lr_pixels: expected a divisor of the family's {num_pix} pixels, got {lr_pixels!r}")
        factor = num_pix // lr_pixels
    name = f"{family}{f'_sr{lr_pixels}' if factor else ''}_n{per_class}"
    # TFDS memoises this dict and has no public way to add a config: tfds.builder/load serve a
    # name from the code only if it is in it (else from files, with a bare BuilderConfig).
    # Pinned by tests/test_internals.py::test_tfds_serves_configs_added_to_builder_configs.
    configs = Deeplense.builder_configs
    if name not in configs:
        what = (f"Super-resolution pairs of {family}: {num_pix}x{num_pix} 'hr' and {lr_pixels}x{lr_pixels} 'lr',"
                if factor else FAMILIES[family].description)
        configs[name] = DeeplenseConfig(
            name=name, version=VERSION, family=family, train_per_class=train,
            validation_per_class=val, test_per_class=test, sr_factor=factor,
            description=f"{what} {train}/{val}/{test} per class.",
        )
    return f"deeplense/{name}"


def make_example(index: int, *, family: str, split: str, seed: int, sr_factor: int):
    """(key, features) of example ``index``; module-level so worker processes can run it."""
    from lensml.simulation.examples import simulate_example, simulate_sr_example

    if sr_factor:
        feats = simulate_sr_example(family, sr_factor, split, index, seed)
    else:
        feats = simulate_example(family, split, index, seed)
    return index, feats


class Deeplense(tfds.core.GeneratorBasedBuilder):
    """DeepLense-style simulated lensing images (no_sub / cdm / axion, or a family's own classes)."""

    VERSION = VERSION
    RELEASE_NOTES = {"1.0.0": "First release: Models I-III, 3k, tiny and super-resolution configs; the seed "
                     "papers' own families (no_sphere_vort, lens_jepa_model_a/b) added as new configs."}
    BUILDER_CONFIGS = _configs()
    BUILDER_CONFIG_CLS = DeeplenseConfig

    def download_and_prepare(self, *args, **kwargs):
        """TFDS' build, holding an exclusive lock on this config for the whole build: builds of
        one config by several processes run one after the other, and an ``incomplete.*`` folder
        found while holding the lock belongs to a killed build (SIGKILL leaves TFDS no chance to
        clean up) and is removed first. A process that waited finds the config prepared by
        another and re-reads its dataset info (splits, sizes), which it had read before the data
        existed. TFDS only renames a finished build into place, so ``tfds.load`` never sees a
        part. The lock file is opened without following a symbolic link (``lensml._io.locked_file``)."""
        import shutil
        from pathlib import Path

        from lensml._io import locked_file

        config_dir = Path(self.data_dir).parent  # <data_dir>/deeplense/<config>/<version>
        if "://" in str(self.data_dir):  # remote storage: no local file locks
            return super().download_and_prepare(*args, **kwargs)
        if not self.is_prepared():  # before anything is written: a build that cannot fit leaves nothing
            self._check_free_space(config_dir)
        # The lock lives in the config's own folder, as a file whose name is no version, so TFDS
        # never lists it as a config or a version (a sibling folder of the configs it would).
        config_dir.mkdir(parents=True, exist_ok=True)
        with locked_file(config_dir / ".build.lock"):  # no symlink followed; freed if we die
            for stale in config_dir.glob("incomplete.*"):
                shutil.rmtree(stale, ignore_errors=True)
            result = super().download_and_prepare(*args, **kwargs)
            if not self.info.splits and self.is_prepared():  # built by another process while we waited
                self.info.read_from_directory(self.data_dir)
            return result

    def stored_bytes(self) -> int:
        """About how many bytes the built config takes on disk: its float32 image features
        (image, convergence, and hr/lr for super-resolution) of every example, uncompressed."""
        cfg = self.builder_config
        n = get_family(cfg.family).instrument.num_pix
        pixels = 2 * n * n + ((n * n + (n // cfg.sr_factor) ** 2) if cfg.sr_factor else 0)
        examples = len(get_family(cfg.family).class_names) * sum(cfg.per_class(s) for s in SPLITS)
        return examples * (4 * pixels + 64)

    def _check_free_space(self, folder) -> None:
        import shutil
        from pathlib import Path

        folder = Path(folder)
        while not folder.exists() and folder != folder.parent:  # the disk it will be on
            folder = folder.parent
        need, free = self.stored_bytes(), shutil.disk_usage(folder).free
        if need > free:
            raise ValueError(
                f"deeplense/{self.builder_config.name}: building it needs about {need / 1e9:,.1f} GB, but "
                f"{str(folder)!r} has {free / 1e9:,.1f} GB free; choose fewer examples per class (the "
                "_n<N> suffix) or another data_dir")

    @classmethod
    def get_builder_config(cls, name, version=None):
        """TFDS' lookup, plus ``<family>_n<N>`` configs made (once per process) on demand."""
        match = _SIZED.match(name)
        if match and name not in cls.builder_configs and match["family"] in FAMILIES:
            sized_config(match["family"], int(match["per_class"]), int(match["lr"]) if match["lr"] else None)
        return super().get_builder_config(name, version)

    def _info(self) -> tfds.core.DatasetInfo:
        cfg = self.builder_config
        fam = get_family(cfg.family)
        n = fam.instrument.num_pix
        image = lambda size, doc: tfds.features.Tensor(  # noqa: E731
            shape=(size, size, 1), dtype=np.float32, doc=doc)
        features = {"image": image(n, "model + noise, counts/s per pixel (not normalised); published "
                                      "variants: 2 x model (Models II/III) or Poisson counts (Model I)")}
        for t in fam.targets.values():  # the family's target schema (lensml.simulation.targets)
            if not t.stored:
                continue
            doc = f"{t.doc}{', ' + t.unit if t.unit else ''}"
            if t.carried_by is not None:
                doc += f"; NaN unless the class is one of {list(t.carried_by)}"
            if t.name == "label":
                features[t.name] = tfds.features.ClassLabel(names=list(fam.class_names))
            elif t.is_map:
                features[t.name] = image(n, doc)
            elif t.shape == ():
                features[t.name] = tfds.features.Scalar(dtype=np.dtype(t.dtype), doc=doc)
            else:
                features[t.name] = tfds.features.Tensor(shape=t.shape, dtype=np.dtype(t.dtype), doc=doc)
        if cfg.sr_factor:
            features["hr"] = image(n, "high-resolution image (same as image)")
            features["lr"] = image(n // cfg.sr_factor, "low-resolution image of the same lens")
        return self.dataset_info_from_configs(
            description=DESCRIPTION,
            features=tfds.features.FeaturesDict(features),
            supervised_keys=("image", "label"),
            homepage="https://github.com/ML4SCI/DeepLense",
            citation=CITATION,
        )

    def _generate_splits(self, dl_manager, download_config):
        # TFDS chooses Beam only from the download config; remember it for _generate_examples.
        self._use_beam = bool(download_config.beam_runner or download_config.beam_options)
        return super()._generate_splits(dl_manager, download_config)

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing is downloaded: every example is simulated
        cfg = self.builder_config
        # example i is of class i mod C (simulate_example): C x per_class examples, balanced
        classes = len(get_family(cfg.family).class_names)
        return {s: self._generate_examples(split=s, count=classes * cfg.per_class(s)) for s in SPLITS}

    def _generate_examples(self, split: str, count: int):
        import functools

        cfg = self.builder_config
        fn = functools.partial(make_example, family=cfg.family, split=split, seed=cfg.seed,
                               sr_factor=cfg.sr_factor)
        if getattr(self, "_use_beam", False):
            beam = tfds.core.lazy_imports.apache_beam
            return beam.Create(list(range(count))) | beam.Map(fn)
        from lensml.simulation.parallel import parallel_map

        return parallel_map(fn, range(count), progress=f"deeplense/{cfg.name} {split}")
