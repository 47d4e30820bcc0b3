"""The GLEC / ISO 14083 formulas of logistics.rules on hand-calculated numbers, and the same
functions on NumPy arrays and polars expressions (they use operators only)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from logistics.backends import NumpyBackend, PolarsBackend
from logistics.rules import activity, distance, emissions


def test_activity():
    # 12,000 kg is 12 t; 12 t over 410 km is 4,920 tkm (GLEC v3.0 pp.21-22)
    assert activity.mass_t(12_000) == 12.0
    assert activity.tonne_km(12.0, 410.0) == 4920.0
    # 3 TEU known by count only: 3 × 10 t = 30 t (GLEC v3.0 p.153); 25 t is 2.5 TEU
    assert activity.mass_t_from_teu(3, 10.0) == 30.0
    assert activity.teu_from_mass_t(25.0, 10.0) == pytest.approx(2.5)
    assert activity.teu_km(2.0, 1000.0) == 2000.0


def test_distance():
    # a 905 km flight: DAF = (905 + 95) / 905 = 1.104972... (GLEC v3.0 p.38)
    assert distance.air_gcd_daf_from_km(905.0, 95.0) == pytest.approx(1000 / 905)
    assert distance.emissions_distance_km(905.0, 1000 / 905) == pytest.approx(1000.0)


def test_emissions():
    # 4,920 tkm × 0.095 kg/tkm × DAF 1 = 467.4 kg; fuel 100 l × 3.24 kg/l = 324 kg; hub 12 t × 0.6 kg/t = 7.2 kg
    assert emissions.transport_kg(4920.0, 0.095, 1.0) == pytest.approx(467.4)
    assert emissions.fuel_kg(100.0, 3.24) == pytest.approx(324.0)
    assert emissions.hub_kg(12.0, 0.6) == pytest.approx(7.2)
    assert emissions.intensity_g_per_tkm(467.4, 4920.0) == pytest.approx(95.0)
    assert emissions.well_to_wheel(0.073, 0.022) == pytest.approx(0.095)
    assert emissions.share(1.0, 4.0) == 0.25


def test_formulas_take_arrays_and_expressions_alike():
    mass = np.array([12_000.0, 500.0])
    km = np.array([410.0, 12.5])
    expected = activity.tonne_km(activity.mass_t(mass), km)
    frame = pl.DataFrame({"mass_kg": mass, "km": km})
    got = frame.select(activity.tonne_km(activity.mass_t(pl.col("mass_kg")), pl.col("km"))).to_series().to_numpy()
    assert np.array_equal(got, expected)  # the same bits


@pytest.mark.parametrize("backend", ["polars", "numpy"])
def test_daf_rule(backend):
    air = [False, True, False, False, False]
    gcd = [False, True, True, False, True]  # actual, gcd, gcd, sfd, gcd
    km = [100.0, 905.0, 1000.0, 50.0, 200.0]
    mode_daf = [1.2, None, 1.15, None, 1.2]  # the mode's GCD DAF: road 1.2 (the pack's), sea 1.15 (GLEC v3.0 p.51)
    # actual and SFD: 1; air on GCD: (905 + 95) / 905 (p.38); sea on GCD: 1.15; road on GCD: 1.2
    expected = [1.0, 1000 / 905, 1.15, 1.0, 1.2]
    if backend == "polars":
        frame = pl.DataFrame({"air": air, "gcd": gcd, "km": km, "daf": mode_daf})
        got = frame.select(distance.daf_rule(PolarsBackend, pl.col("air"), pl.col("gcd"), pl.col("km"), pl.col("daf"),
                                             air_added_km=95.0)).to_series().to_list()
    else:
        b = NumpyBackend({}, 5)
        got = distance.daf_rule(b, np.array(air), np.array(gcd), np.array(km), np.array([np.nan if v is None else v for v in mode_daf]),
                                air_added_km=95.0).tolist()
    assert got == pytest.approx(expected)
