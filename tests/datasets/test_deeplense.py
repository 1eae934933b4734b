"""TFDS builder ``deeplense``: the TFDS builder test case, a real tiny build, atomic builds,
Beam, and ``tfds.load`` after ``import lensml``."""

import pathlib

import numpy as np
import pytest
import tensorflow_datasets as tfds

import lensml  # noqa: F401  (registers deeplense)
from lensml.datasets import deeplense as deeplense_module
from lensml.datasets.deeplense import Deeplense, sized_config

REPO = pathlib.Path(__file__).resolve().parents[2]
FOLDER = REPO / "datasets" / "deeplense"


class DeeplenseBuilderTest(tfds.testing.DatasetBuilderTestCase):
    """TFDS's own builder checks on the tiny config (nothing is downloaded: the
    dummy-data folder is empty and the examples are simulated)."""

    DATASET_CLASS = Deeplense
    BUILDER_CONFIG_NAMES_TO_TEST = ["model_ii_tiny"]
    SPLITS = {"train": 24, "validation": 12, "test": 12}
    EXAMPLE_DIR = str(FOLDER / "dummy_data")


def test_configs_and_sizes():
    configs = Deeplense.builder_configs
    for fam in ("model_i", "model_ii", "model_iii"):
        assert configs[fam].train_per_class == 30_000 and configs[fam].test_per_class == 5_000
        c = configs[f"{fam}_3k"]
        assert c.train_per_class + c.validation_per_class + c.test_per_class == 3_000
        assert (c.train_per_class + c.validation_per_class) / 3_000 == 0.8
        assert f"{fam}_tiny" in configs
    assert configs["model_ii_sr16"].sr_factor == 4 and configs["model_ii_sr32"].sr_factor == 2


def test_sized_configs_resolve_on_demand(tmp_path):
    # A fresh process asking for "<family>_n<N>" (no quickstart ran before) gets the config.
    name = "model_iii_n57"
    assert name not in Deeplense.builder_configs
    builder = tfds.builder(f"deeplense/{name}", data_dir=str(tmp_path))
    cfg = builder.builder_config
    assert (cfg.family, cfg.train_per_class, cfg.validation_per_class, cfg.test_per_class) == (
        "model_iii", 41, 5, 11)
    assert not builder.is_prepared()
    from lensml.data.pipeline import builder_name

    assert builder_name("model_i_n13") == "deeplense/model_i_n13"  # the data pipeline's check
    with pytest.raises(ValueError, match="not found"):
        tfds.builder("deeplense/model_x_n57", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="per_class"):
        tfds.builder("deeplense/model_ii_n3", data_dir=str(tmp_path))

    # super-resolution pairs of any family and size: "<family>_sr<L>_n<N>"
    sr = tfds.builder("deeplense/model_ii_published_sr16_n20", data_dir=str(tmp_path)).builder_config
    assert (sr.family, sr.sr_factor, sr.train_per_class) == ("model_ii_published", 4, 14)
    assert sized_config("model_iii", 20, lr_pixels=32) == "deeplense/model_iii_sr32_n20"
    with pytest.raises(ValueError, match="lr_pixels"):
        sized_config("model_ii", 20, lr_pixels=17)

def test_tiny_build_load_interrupt_and_rerun(tmp_path, monkeypatch):
    real = deeplense_module.make_example

    def failing(index, **kwargs):
        if kwargs["split"] == "validation" and index == 5:
            raise RuntimeError("simulated crash")
        return real(index, **kwargs)

    monkeypatch.setattr(deeplense_module, "make_example", failing)
    builder = tfds.builder("deeplense/model_iii_tiny", data_dir=tmp_path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        builder.download_and_prepare()
    assert not builder.is_prepared()
    from lensml.data.pipeline import builder_name

    assert builder_name("model_i_n13") == "deeplense/model_i_n13"  # the data pipeline's check
    config_dir = tmp_path / "deeplense" / "model_iii_tiny"
    leftovers = [p for p in config_dir.rglob("*") if p.is_file()] if config_dir.exists() else []
    # nothing half-written (TFDS built in a temporary folder, now removed); the build's lock file
    # stays, empty of data (removing a lock file others may wait on would let two builds run)
    assert [p.name for p in leftovers] in ([], [".build.lock"])

    monkeypatch.setattr(deeplense_module, "make_example", real)
    ds = tfds.load("deeplense/model_iii_tiny", split="train", data_dir=tmp_path)  # re-run works
    examples = list(tfds.as_numpy(ds))
    labels = np.array([e["label"] for e in examples])
    assert np.bincount(labels).tolist() == [8, 8, 8]
    for e in examples:
        assert e["image"].shape == (64, 64, 1) and np.isfinite(e["image"]).all()
        assert np.isnan(e["log10_axion_mass"]) == (e["label"] != 2)
        assert e["theta_E"] == pytest.approx(1.66, abs=0.01)
    # stored bytes are the simulator's, regenerated alone from the index
    from lensml.simulation import simulate_example

    fresh = simulate_example("model_iii", "train", 0)
    assert any(e["image"].tobytes() == fresh["image"].tobytes() for e in examples)


@pytest.mark.slow
def test_beam_direct_runner_gives_the_same_dataset(tmp_path):
    beam = pytest.importorskip("apache_beam", reason="the 'beam' extra (CI installs it via 'dev')")
    from apache_beam.options.pipeline_options import PipelineOptions

    config = dict(family="model_ii", train_per_class=2, validation_per_class=1, test_per_class=1)
    builder = tfds.builder("deeplense", config=deeplense_module.DeeplenseConfig(name="beam_test", **config),
                           data_dir=tmp_path)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        beam_runner=beam.runners.DirectRunner(), beam_options=PipelineOptions(["--direct_num_workers=1"])))
    images = sorted(e["image"].tobytes() for e in tfds.as_numpy(builder.as_dataset(split="test")))
    from lensml.simulation import simulate_example

    expected = sorted(simulate_example("model_ii", "test", i)["image"].tobytes() for i in range(3))
    assert images == expected


def test_dataset_folder_has_the_tfds_layout():
    for name in ("README.md", "CITATIONS.bib", "checksums.tsv", "deeplense_dataset_builder.py", "dummy_data"):
        assert (FOLDER / name).exists(), name
    builder_cls = tfds.core.community.builder_cls_from_module  # what `tfds build <folder>` uses
    import sys

    sys.path.insert(0, str(FOLDER.parent))
    try:
        cls = builder_cls("deeplense.deeplense_dataset_builder")
    finally:
        sys.path.remove(str(FOLDER.parent))
    assert issubclass(cls, Deeplense) and cls.name == "deeplense"


def test_unknown_config_raises():
    with pytest.raises(ValueError, match="model_iv"):
        tfds.builder("deeplense/model_iv")


@pytest.mark.slow
def test_tfds_build_command_on_the_dataset_folder(tmp_path):
    # `tfds build` imports apache_beam and mlcroissant (the 'beam' extra; CI installs them via 'dev')
    pytest.importorskip("apache_beam")
    pytest.importorskip("mlcroissant")
    import os
    import subprocess
    import sys

    tfds_cli = pathlib.Path(sys.executable).parent / "tfds"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    cmd = [str(tfds_cli), "build", str(FOLDER), "--config", "model_ii_tiny", "--data_dir", str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    built = tfds.builder("deeplense/model_ii_tiny", data_dir=tmp_path)
    assert built.is_prepared() and built.info.splits["train"].num_examples == 24


def test_published_configs_exist_beside_the_realistic_ones(tmp_path):
    import tensorflow_datasets as tfds

    from lensml.datasets import Deeplense, sized_config

    configs = Deeplense.builder_configs
    for fam in ("model_i_published", "model_ii_published", "model_iii_published"):
        for suffix in ("", "_3k", "_tiny"):
            assert configs[fam + suffix].family == fam
    assert sized_config("model_iii_published", 5) == "deeplense/model_iii_published_n5"
    ds = tfds.load("deeplense/model_ii_published_tiny", split="test", data_dir=tmp_path)
    image = next(iter(ds))["image"].numpy()
    assert image.shape == (64, 64, 1) and image.min() >= 0.0  # twice the noise-free model: no negative noise


_BUILD = ("import sys, tensorflow_datasets as tfds, lensml.datasets; "
          "tfds.builder(sys.argv[1], data_dir=sys.argv[2]).download_and_prepare()")


def _build(name, data_dir, **popen):
    import subprocess
    import sys

    env = dict(__import__("os").environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-c", _BUILD, name, str(data_dir)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)


@pytest.mark.slow
def test_build_sigkilled_mid_split_is_invisible_and_rebuilds_the_same_bytes(tmp_path):
    """A build process killed with SIGKILL (no exception handler runs) leaves no dataset that
    tfds.load would read; the same command run again removes the killed build's folder and
    writes the same dataset as an uninterrupted build: every feature of every example, in order,
    byte for byte. (The shard files themselves differ between *any* two builds, uninterrupted
    ones too: protobuf serialises an Example's feature map in a per-process order.)"""
    import os
    import signal
    import time

    name = "deeplense/model_ii_published_n100"
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    config_dir = killed / "deeplense" / "model_ii_published_n100"
    proc = _build(name, killed, start_new_session=True)
    deadline = time.time() + 120
    while not list(config_dir.glob("incomplete.*")) and time.time() < deadline:
        time.sleep(0.05)
    assert list(config_dir.glob("incomplete.*")), "the build never started"
    time.sleep(2.0)  # inside the splits (300 lenses take ~8 s)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(config_dir.glob("incomplete.*"))  # the killed build's folder, never renamed into place
    assert not tfds.builder(name, data_dir=killed).is_prepared()
    with pytest.raises(AssertionError, match="could not find data"):
        tfds.load(name, split="train", data_dir=killed, download=False)
    for data_dir in (killed, clean):
        assert _build(name, data_dir).wait(timeout=300) == 0
    assert not list(config_dir.glob("incomplete.*"))  # the stale folder was removed
    for split in ("train", "validation", "test"):
        rebuilt, reference = (list(tfds.as_numpy(tfds.load(name, split=split, data_dir=d, shuffle_files=False)))
                              for d in (killed, clean))
        assert len(rebuilt) == len(reference) == 3 * dict(train=72, validation=8, test=20)[split]
        for a, b in zip(rebuilt, reference):
            assert a.keys() == b.keys()
            for key in a:
                assert np.asarray(a[key]).tobytes() == np.asarray(b[key]).tobytes(), (split, key)


@pytest.mark.parametrize("classes", [2, 4])
def test_a_family_with_other_than_three_classes_builds_balanced_splits(classes, tmp_path, monkeypatch):
    # Each split holds per_class examples of every class of the family, whatever their number
    # (the builder once made 3 x per_class examples: unbalanced splits for 2 or 4 classes).
    import dataclasses

    from lensml.simulation import get_family
    from lensml.simulation.families import FAMILIES
    from lensml.simulation.scene import TNFWSubhalos

    base = get_family("model_ii")
    small = base.replace(instrument=dataclasses.replace(base.instrument, num_pix=16))
    substructure = (small.classes[:2] if classes == 2 else
                    tuple(small.classes) + (TNFWSubhalos(name="tnfw", count_=3),))
    name = f"split_test_{classes}"
    monkeypatch.setitem(FAMILIES, name, small.replace(name=name, substructure=substructure))
    per_class = 10
    config = sized_config(name, per_class)
    try:
        builder = tfds.builder(config, data_dir=str(tmp_path))
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
        cfg = builder.builder_config
        for split in ("train", "validation", "test"):
            labels = [int(x["label"]) for x in tfds.as_numpy(builder.as_dataset(split=split))]
            assert np.bincount(labels, minlength=classes).tolist() == [cfg.per_class(split)] * classes, split
    finally:  # the config names a family that exists in this test only
        Deeplense.builder_configs.pop(config.split("/")[1], None)
