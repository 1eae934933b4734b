"""The target schema: a family's targets, and which of its classes carry each, read by every
part of lensml from one place (lensml.simulation.targets)."""

import numpy as np
import pytest

from lensml.simulation import get_family
from lensml.simulation.families import AxionVortex
from lensml.simulation.scene import NoSubstructure, VortexPoints
from lensml.simulation.targets import HR, TARGETS, target_names, task_of


def _two_vortex_family():
    # a new class that carries the axion mass: a heavier vortex, declared only by its sampler
    base = get_family("model_ii")
    classes = (NoSubstructure(), VortexPoints(config=AxionVortex()),
               VortexPoints(name="heavy_axion", config=AxionVortex(total_mass=1e11)))
    return base.replace(name="two_vortices", substructure=classes)


def test_a_family_s_targets_and_their_carriers_come_from_its_classes():
    targets = get_family("model_ii").targets
    assert list(targets) == [t.name for t in TARGETS]
    assert targets["log10_axion_mass"].carried_by == ("axion",)
    assert targets["theta_E"].carried_by is None and targets["label"].task == "classification"
    assert _two_vortex_family().targets["log10_axion_mass"].carried_by == ("axion", "heavy_axion")
    with pytest.raises(ValueError, match=r"no class of family 'no_sphere_vort' carries it \(its classes: "
                                         r"\['no', 'sphere', 'vort'\]\)"):
        get_family("no_sphere_vort").target("log10_axion_mass")
    with pytest.raises(ValueError, match="target: got 'mass', which lensml cannot make"):
        get_family("model_ii").target("mass")


def test_every_reader_takes_its_targets_from_the_schema():
    from lensml.data.pipeline import TARGETS as PIPELINE_TARGETS
    from lensml.data.stream import STREAM_TARGETS
    from lensml.datasets.deeplense import Deeplense
    from lensml.training.checks import TASK_OF_TARGET

    assert set(PIPELINE_TARGETS) == set(target_names()) | {None}
    assert set(STREAM_TARGETS) == {t.name for t in TARGETS if t.stream} | {None}
    assert TASK_OF_TARGET == {t.name: t.task for t in TARGETS + (HR,) if t.task}
    assert task_of("convergence") is None and task_of("hr") == "super_resolution"
    info = Deeplense(config="model_ii_tiny")._info()
    assert set(info.features) == {"image"} | {t.name for t in TARGETS if t.stored}
    assert "NaN unless the class is one of ['axion']" in info.features["log10_axion_mass"].doc.desc


def test_the_stream_and_the_pipeline_draw_the_carriers_of_a_class_specific_target():
    from lensml.data import pipeline, simulated_stream

    stream = simulated_stream(_two_vortex_family(), batch_size=4, seed=0, target="log10_axion_mass")
    assert stream.classes == ("axion", "heavy_axion")
    x, y = stream[0]
    assert x.shape[0] == 4 and np.isfinite(y).all() and ((y >= -24) & (y <= -22)).all()
    # the stored pipeline refuses the target before building anything for a family that lacks it
    with pytest.raises(ValueError, match="no class of family 'no_sphere_vort' carries it"):
        pipeline("no_sphere_vort_tiny", "train", batch_size=2, target="log10_axion_mass")
