"""Keras-free constants of the physics (importable without Keras, e.g. by the dataset families)."""

import math

#: Gaussian sigma per unit full width at half maximum: 1 / (2 sqrt(2 ln 2)).
FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
