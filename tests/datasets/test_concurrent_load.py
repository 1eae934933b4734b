"""Several processes asking ``tfds.load`` for the same new config at once: one builds it, the
others wait on its build lock and then read what it built (each gets every split)."""

import subprocess
import sys
import textwrap

LOAD = textwrap.dedent("""
    import sys
    import lensml  # noqa: F401  (registers deeplense)
    import tensorflow_datasets as tfds

    splits = tfds.load("deeplense/model_ii_n5", data_dir=sys.argv[1],
                       download_and_prepare_kwargs={"download_config": tfds.download.DownloadConfig(try_download_gcs=False)})
    print(sorted((name, int(ds.cardinality())) for name, ds in splits.items()))
""")


def test_three_processes_load_one_new_config_at_once(tmp_path):
    data_dir = tmp_path / "tfds"
    procs = [subprocess.Popen([sys.executable, "-c", LOAD, str(data_dir)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        # 5 per class: 3 / 1 / 1 per class (split_sizes), 3 classes
        assert out.strip().splitlines()[-1] == "[('test', 3), ('train', 9), ('validation', 3)]", out
    # built once: one version folder, no left-over incomplete build
    versions = [p.name for p in (data_dir / "deeplense" / "model_ii_n5").iterdir() if not p.name.startswith(".")]
    assert versions == ["1.0.0"], versions
