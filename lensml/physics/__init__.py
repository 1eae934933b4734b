"""lensml.physics: differentiable strong-lensing physics in ``keras.ops`` (float32, arcsec).

Conventions (DESIGN section 3): angles in arcsec; an N x N image with pixel scale s has
pixel centres ``(k - (N - 1) / 2) * s``, x grows with the column, y with the row
(lenstronomy's default grid); lens equation beta = theta - alpha(theta).
This package imports nothing else from lensml.
"""

from lensml.physics.grids import pixel_coordinates, pixel_grid, pixel_grid_numpy, subpixel_grids
from lensml.physics.inverse_lens import InverseLens, inverse_lens
from lensml.physics.lens_equation import LensEquation
from lensml.physics.light import LIGHT_PROFILES, Gaussian, LightModel, SersicEllipse
from lensml.physics.mass import (
    NFW,
    PROFILES,
    SIE,
    SIS,
    TNFW,
    AxionVortex,
    AxionVortexLine,
    MassProfile,
    PointMass,
    Shear,
)
from lensml.physics.mass_model import MassModel
from lensml.physics.noise import (
    add_instrument_noise,
    add_poisson_gaussian_noise,
    background_noise_rms,
    magnitude_to_cps,
    poisson_noise_rms,
)
from lensml.physics.poisson import PoissonSolver, poisson_solve
from lensml.physics.preprocessing import PhysicsPreprocessing, physics_preprocessing
from lensml.physics.psf import (
    convolve_gaussian_psf,
    convolve_psf,
    gaussian_filter_matrix,
    gaussian_filter_taps,
    gaussian_psf_kernel,
)
from lensml.physics.sis_deflection import SISDeflection

__all__ = [
    "pixel_grid",
    "pixel_grid_numpy",
    "subpixel_grids",
    "pixel_coordinates",
    "MassModel",
    "MassProfile",
    "PROFILES",
    "SIS",
    "SIE",
    "Shear",
    "PointMass",
    "NFW",
    "TNFW",
    "AxionVortex",
    "AxionVortexLine",
    "LightModel",
    "LIGHT_PROFILES",
    "SersicEllipse",
    "Gaussian",
    "LensEquation",
    "SISDeflection",
    "PoissonSolver",
    "poisson_solve",
    "InverseLens",
    "inverse_lens",
    "PhysicsPreprocessing",
    "physics_preprocessing",
    "gaussian_psf_kernel",
    "gaussian_filter_matrix",
    "gaussian_filter_taps",
    "convolve_gaussian_psf",
    "convolve_psf",
    "add_instrument_noise",
    "add_poisson_gaussian_noise",
    "background_noise_rms",
    "poisson_noise_rms",
    "magnitude_to_cps",
]
