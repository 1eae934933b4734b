"""The ``lensml demo`` command writes a PNG."""

import argparse

from lensml.cli import demo


def test_demo_writes_png(tmp_path):
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    out = tmp_path / "demo.png"
    args = parser.parse_args(["--out", str(out), "--seed", "3", "--num-pix", "32", "--subhalos", "2"])
    assert demo.main(args) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
