"""lensml.simulation: DeepLense-style dataset families, priors, and the simulators.

- ``FAMILIES`` / ``get_family(name)``: Model I, II, III as frozen ``Family`` configs
  (lensml.simulation.families), realistic (``model_ii``) and published-compatible
  (``model_ii_published``: the public simulator's data as the papers trained on them);
  ``Family.replace(...)`` defines your own (``deeplense_classes(cdm=, vortex=)``: the three
  DeepLense classes with other subhalos or vortices).
- the scene (lensml.simulation.scene): each class a substructure sampler naming lenstronomy
  profiles (``NoSubstructure``, ``PointMassSubhalos``, ``VortexPoints``, ``TNFWSubhalos``),
  which both simulators render; ``model_ii_tnfw`` has truncated-NFW CDM subhalos.
- ``Cosmology`` (lensml.simulation.cosmology): flat LambdaCDM distances, the point-mass Einstein
  radius, the critical surface density, NFW angles; ``Family.targets`` (lensml.simulation.targets):
  what an example carries.
- ``sample_parameters`` / ``example_parameters``: seeded priors, per-example seeds from
  (family, split, index, seed) (lensml.simulation.priors).
- ``ReferenceSimulator``: lenstronomy, the source of truth (lensml.simulation.reference).
- ``BatchedSimulator``: keras.ops on lensml.physics, a batch per call inside the graph
  (lensml.simulation.batched).
- ``simulate_example`` / ``simulate_sr_example``: whole dataset examples.

Importing this package does not import lenstronomy, keras or TensorFlow (tests/test_package.py).
"""

from lensml.simulation.examples import class_counts, simulate_example, simulate_sr_example
from lensml.simulation.cosmology import Cosmology
from lensml.simulation.families import (
    CLASS_NAMES,
    FAMILIES,
    AxionVortex,
    BackgroundNoise,
    CDMSubhalos,
    Family,
    Instrument,
    InstrumentNoise,
    MacroLens,
    Source,
    deeplense_classes,
    get_family,
)
from lensml.simulation.noise import add_noise, noise_sigma
from lensml.simulation.priors import (
    example_generators,
    example_parameters,
    example_seed_sequence,
    sample_parameters,
)
from lensml.simulation.reference import ReferenceSimulator, reference_simulator
from lensml.simulation.scene import NoSubstructure, PointMassSubhalos, Substructure, TNFWSubhalos, VortexPoints

__all__ = ["FAMILIES", "CLASS_NAMES", "Family", "get_family", "Instrument", "InstrumentNoise", "BackgroundNoise",
           "Cosmology", "MacroLens", "Source", "CDMSubhalos", "AxionVortex", "deeplense_classes", "Substructure", "NoSubstructure",
           "PointMassSubhalos", "VortexPoints", "TNFWSubhalos", "sample_parameters", "example_parameters",
           "example_generators", "example_seed_sequence", "ReferenceSimulator", "reference_simulator",
           "BatchedSimulator", "simulate_example", "simulate_sr_example", "class_counts", "add_noise", "noise_sigma"]


def __getattr__(name):
    # The batched simulator imports keras: load it only when asked for.
    if name == "BatchedSimulator":
        from lensml.simulation.batched import BatchedSimulator

        return BatchedSimulator
    raise AttributeError(f"module 'lensml.simulation' has no attribute {name!r}")
