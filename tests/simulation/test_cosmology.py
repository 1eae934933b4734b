"""The cosmology module: distances and lensing quantities against analytic relations and lenstronomy."""

import math

import numpy as np
import pytest

from lensml.simulation.cosmology import Cosmology


def test_critical_density_matches_lenstronomy_and_the_point_mass_einstein_radius():
    from astropy.cosmology import FlatLambdaCDM
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    cosmo = Cosmology(H0=70.0, Om0=0.3, z_lens=0.5, z_source=1.0)
    reference = LensCosmo(0.5, 1.0, cosmo=FlatLambdaCDM(H0=70.0, Om0=0.3))
    # lenstronomy's physical constants differ from astropy's in the 4th digit
    assert cosmo.critical_surface_density() == pytest.approx(reference.sigma_crit_angle, rel=1e-3)
    # analytic: a point mass M has theta_E^2 = M / (pi Sigma_crit)
    for mass in (1e8, 1e10, 1e12):
        assert cosmo.einstein_radius(mass) == pytest.approx(
            math.sqrt(mass / (math.pi * cosmo.critical_surface_density())), rel=1e-10)
    rs, alpha_rs = cosmo.nfw_angles(np.array([1e9, 1e10]), 15.0)
    np.testing.assert_allclose((rs, alpha_rs), reference.nfw_physical2angle(np.array([1e9, 1e10]), 15.0), rtol=1e-12)


def test_distances_follow_the_flat_universe_relation():
    cosmo = Cosmology(z_lens=0.5, z_source=2.0)
    d_l, d_s, d_ls = (cosmo.angular_diameter_distance(0.5), cosmo.angular_diameter_distance(2.0),
                      cosmo.angular_diameter_distance(0.5, 2.0))
    # flat universe: D_LS = ((1 + z_s) D_S - (1 + z_l) D_L) / (1 + z_s)
    assert d_ls == pytest.approx(((1 + 2.0) * d_s - (1 + 0.5) * d_l) / (1 + 2.0), rel=1e-10)
    assert 1000.0 < d_l < d_s  # Mpc
    # a deeper source is lensed more strongly: Sigma_crit falls
    assert cosmo.critical_surface_density() < Cosmology(z_lens=0.5, z_source=1.0).critical_surface_density()


def test_a_family_keeps_its_cosmology_from_the_module():
    from lensml.simulation import families

    assert families.Cosmology is Cosmology
    with pytest.raises(ValueError, match="z_source must exceed z_lens"):
        Cosmology(z_lens=1.0, z_source=0.5)
