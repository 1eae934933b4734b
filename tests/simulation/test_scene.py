"""The scene description: a family's classes are substructure samplers that name lenstronomy
profiles; both simulators render them, and the number and names of classes come from the family."""

import numpy as np
import pytest

from lensml.simulation import (AxionVortex, CDMSubhalos, deeplense_classes, get_family, reference_simulator,
                              sample_parameters, simulate_example)
from lensml.simulation.families import FAMILIES
from lensml.simulation.scene import NoSubstructure, PointMassSubhalos, TNFWSubhalos, VortexPoints, component_profile


def test_standard_families_keep_their_classes():
    fam = get_family("model_ii")
    assert fam.class_names == ("no_sub", "cdm", "axion")
    assert [type(c) for c in fam.classes] == [NoSubstructure, PointMassSubhalos, VortexPoints]
    assert fam.classes[1].config == CDMSubhalos() and fam.classes[2].config == AxionVortex()
    assert fam.classes == deeplense_classes()  # the default classes


def test_tnfw_family_is_lenstronomy_tnfw_subhalos(rng):
    fam = get_family("model_ii_tnfw")
    params = sample_parameters(fam, "cdm", rng, batch_size=2)
    assert component_profile(fam, params)[0] == "TNFW"
    sim = reference_simulator(fam)
    names, kwargs = sim.lens_profiles(params, 1)
    assert names == ("SIE", "SHEAR") + ("TNFW",) * 25
    assert set(kwargs[2]) == {"Rs", "alpha_Rs", "r_trunc", "center_x", "center_y"}
    assert np.allclose(params["sub_r_trunc"], 5.0 * params["sub_Rs"])
    # the same lens and source as the no_sub example of the same generator, plus the subhalos
    base = sample_parameters(fam, "no_sub", np.random.default_rng(3))
    tnfw = sample_parameters(fam, "cdm", np.random.default_rng(3))
    assert base["source_x"][0] == tnfw["source_x"][0]
    diff = np.abs(sim.render(tnfw) - sim.render(base)).max() / sim.render(base).max()
    assert 1e-3 < diff < 0.5
    # the convergence map is lenstronomy's kappa of every profile at the pixel centres
    from lenstronomy.LensModel.lens_model import LensModel

    n, kappa = fam.instrument.num_pix, sim.convergence(tnfw)[0]
    names, kwargs = sim.lens_profiles(tnfw, 0)
    np.testing.assert_allclose(kappa, LensModel(list(names)).kappa(sim._x, sim._y, kwargs).reshape(n, n))


def test_a_family_with_two_classes_simulates_and_streams():
    # Classes and their number come from the family: a two-class TNFW-vs-smooth study.
    from lensml.data import simulated_stream
    from lensml.simulation import class_counts

    fam = get_family("model_iii").replace(name="tnfw_two_class",
                                          substructure=(NoSubstructure(), TNFWSubhalos(name="tnfw", count_=8)))
    assert fam.class_names == ("no_sub", "tnfw")
    labels = [simulate_example(fam, "test", i)["label"] for i in range(4)]
    assert labels == [0, 1, 0, 1] and class_counts(labels, fam.class_names) == {"no_sub": 2, "tnfw": 2}
    x, y = simulated_stream(fam, batch_size=4, seed=0, steps_per_epoch=1)[0]
    assert x.shape == (4, 64, 64, 1) and sorted(np.asarray(y).tolist()) == [0, 0, 1, 1]


def test_bad_classes():
    base = get_family("model_ii")
    with pytest.raises(ValueError, match="at least two"):
        base.replace(substructure=(NoSubstructure(),))
    with pytest.raises(ValueError, match="class names must differ"):
        base.replace(substructure=(NoSubstructure(), NoSubstructure()))
    with pytest.raises(ValueError, match="parameter keys of a POINT_MASS class"):
        base.replace(substructure=(NoSubstructure(), TNFWSubhalos(key_map=(("Rs", "sub_theta_E"), ("alpha_Rs", "sub_x"),
                                                                          ("r_trunc", "sub_y")))))
    with pytest.raises(ValueError, match="unknown class 'wimp'"):
        sample_parameters(base, "wimp", np.random.default_rng(0))
    assert "model_ii_tnfw" in FAMILIES


def test_tnfw_family_is_a_tfds_dataset(tmp_path):
    import tensorflow_datasets as tfds

    import lensml.datasets  # noqa: F401 - registers deeplense

    builder = tfds.builder("deeplense/model_ii_tnfw_n5", data_dir=str(tmp_path))
    builder.download_and_prepare()
    assert builder.info.features["label"].names == ["no_sub", "cdm", "axion"]
    labels = [int(ex["label"]) for ex in tfds.load("deeplense/model_ii_tnfw_n5", split="train", data_dir=str(tmp_path))]
    assert sorted(set(labels)) == [0, 1, 2]
