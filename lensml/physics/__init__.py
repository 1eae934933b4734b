"""lensml.physics: differentiable strong-lensing physics in ``keras.ops`` (float32, arcsec).

Conventions (docs/conventions.md): angles in arcsec; an N x N image with pixel scale s has
pixel centres ``(k - (N - 1) / 2) * s``, x grows with the column, y with the row
(lenstronomy's default grid); lens equation beta = theta - alpha(theta).
This package imports nothing else from lensml. Its names load on first use (PEP 562), so
importing the package (or its Keras-free constants, ``lensml.physics.constants``) does not
import Keras.
"""

import importlib
import sys

from lensml.physics.constants import FWHM_TO_SIGMA

#: Public name -> the submodule that defines it (imported on first access).
_EXPORTS = {
    "field_jacobian": "lensml.physics.autodiff",
    "pixel_coordinates": "lensml.physics.grids",
    "pixel_grid": "lensml.physics.grids",
    "pixel_grid_numpy": "lensml.physics.grids",
    "subpixel_grids": "lensml.physics.grids",
    "InverseLens": "lensml.physics.inverse_lensing",
    "inverse_lens": "lensml.physics.inverse_lensing",
    "LensEquation": "lensml.physics.lens_equation",
    "LIGHT_PROFILES": "lensml.physics.light",
    "Gaussian": "lensml.physics.light",
    "LightModel": "lensml.physics.light",
    "SersicEllipse": "lensml.physics.light",
    "NFW": "lensml.physics.mass",
    "PROFILES": "lensml.physics.mass",
    "SIE": "lensml.physics.mass",
    "SIS": "lensml.physics.mass",
    "TNFW": "lensml.physics.mass",
    "AxionVortex": "lensml.physics.mass",
    "AxionVortexLine": "lensml.physics.mass",
    "MassProfile": "lensml.physics.mass",
    "PointMass": "lensml.physics.mass",
    "Shear": "lensml.physics.mass",
    "MassModel": "lensml.physics.mass_model",
    "add_instrument_noise": "lensml.physics.noise",
    "add_poisson_gaussian_noise": "lensml.physics.noise",
    "background_noise_rms": "lensml.physics.photometry",
    "magnitude_to_cps": "lensml.physics.photometry",
    "poisson_noise_rms": "lensml.physics.noise",
    "PoissonSolver": "lensml.physics.poisson",
    "poisson_solve": "lensml.physics.poisson",
    "PhysicsPreprocessing": "lensml.physics.preprocessing",
    "physics_preprocessing": "lensml.physics.preprocessing",
    "SobelProduct": "lensml.physics.preprocessing",
    "sobel_product": "lensml.physics.preprocessing",
    "convolve_gaussian_psf": "lensml.physics.psf",
    "convolve_psf": "lensml.physics.psf",
    "gaussian_filter_matrix": "lensml.physics.psf",
    "gaussian_filter_taps": "lensml.physics.psf",
    "gaussian_psf_kernel": "lensml.physics.psf",
    "SISDeflection": "lensml.physics.sis_deflection",
}

__all__ = [
    "field_jacobian",
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
    "SobelProduct",
    "sobel_product",
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


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lensml.physics' has no attribute {name!r}")
    if "keras" not in sys.modules:  # about to load Keras: an unsupported backend is one clear error
        from lensml._backend import check_backend

        check_backend()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    from lensml import _keras_objects

    _keras_objects.register_if_keras_loaded()  # the submodule may have been the first to load Keras
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
