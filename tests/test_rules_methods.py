"""The small cited formulas of ``logistics.rules`` (cleaning, electricity, hubs, allocation): each
works alike on floats, NumPy arrays and polars expressions. Golden values are GLEC Framework v3.0
(Smart Freight Centre, revision 2024-04-02) worked examples or hand calculations written beside them."""

import numpy as np
import polars as pl
import pytest

from logistics.rules import allocation, cleaning, electricity, hubs

rel = pytest.approx


def on_all(fn, *args):
    """fn applied to floats, NumPy arrays and polars columns gives the same numbers."""
    scalar = fn(*args)
    array = fn(*(np.array([a]) for a in args))[0]
    frame = pl.DataFrame({f"a{i}": [float(a)] for i, a in enumerate(args)})
    expr = frame.select(fn(*(pl.col(f"a{i}") for i in range(len(args)))))[0, 0]
    assert array == rel(scalar) and expr == rel(scalar)
    return scalar


def test_tank_cleaning_is_count_times_factor():
    # GLEC v3.0 pp.132, 138: 86.6 kg CO2e per tank cleaning; 3 cleanings = 259.8 kg
    assert on_all(cleaning.cleaning_emissions_kg, 3, 86.6) == rel(259.8)
    # EFTCO's breakdown printed with it: gas 68.6 + gas oil 12.77 MJ × 95.4 g/MJ (1.2) + 48.0 kWh × 0.349 (16.8)
    assert 68.6 + round(12.77 * 0.0954, 1) + round(48.0 * 0.349, 1) == rel(86.6)


def test_electricity_fuel_based_w5():
    # GLEC v3.0 p.106: BEV fleet 100,000 kWh × 349.2 g CO2e/kWh = 34,920 kg
    assert on_all(electricity.electricity_emissions_kg, 100_000, 0.3492) == rel(34_920)
    # p.77 prints 97.0 g/MJ; × 3.6 MJ/kWh = 349.2 g/kWh
    assert on_all(electricity.kg_per_kwh_from_g_per_mj, 97.0) == rel(0.3492)


def test_electricity_from_energy_intensity():
    # GLEC v3.0 p.93 Table 10: BEV rigid 3.5–7.5 t average/mixed 0.51 kWh/tkm; 2 t × 500 km = 1,000 tkm
    # -> 510 kWh; × 0.3492 kg/kWh = 178.092 kg CO2e (hand calculation)
    kwh = on_all(electricity.energy_kwh, 1_000, 0.51)
    assert kwh == rel(510)
    assert electricity.electricity_emissions_kg(kwh, 0.3492) == rel(178.092)


def test_egrid_pounds_per_mwh():
    # 1,000 lb/MWh = 453.59237 kg / 1,000 kWh = 0.45359237 kg/kWh (1 lb = 0.45359237 kg exactly)
    assert on_all(electricity.kg_per_kwh_from_lb_per_mwh, 1_000) == rel(0.45359237, abs=1e-12)


def test_refrigerated_hub_is_general_plus_refrigeration_only():
    # Hand calculation (GLEC v3.0 p.123 form): shared 100,000 kWh × 0.3492 = 34,920 kg over 50,000 t
    # outbound = 0.6984 kg/t; refrigeration 40,000 kWh × 0.3492 = 13,968 kg over the 10,000 t of
    # refrigerated outbound = 1.3968 kg/t; refrigerated = 0.6984 + 1.3968 = 2.0952 kg/t
    assert on_all(hubs.hub_intensity_kg_per_t, 34_920, 50_000) == rel(0.6984)
    assert on_all(hubs.refrigerated_hub_intensity_kg_per_t, 34_920, 50_000, 13_968, 10_000) == rel(2.0952)


def test_milk_run_notional_tkm_w6():
    # GLEC v3.0 p.107 Table 2: drops 5, 2, 1, 4, 0.6 t at SFD 5, 6, 10, 8, 6 km from base A
    notional = allocation.notional_tkm(np.array([5, 2, 1, 4, 0.6]), np.array([5, 6, 10, 8, 6]))
    assert notional.tolist() == rel([25, 12, 10, 32, 3.6])
    assert (notional / notional.sum()).round(2).tolist() == [0.30, 0.15, 0.12, 0.39, 0.04]  # printed shares
    assert on_all(allocation.notional_tkm, 5, 5) == 25


def test_belly_freight_share_by_mass():
    # GLEC v3.0 p.38: 100 kg per passenger with luggage where actual masses are unknown.
    # Hand calculation: 180 seats × 0.85 load = 153 passengers × 100 kg = 15,300 kg; 4,500 kg freight
    # -> share 4,500 / 19,800 = 0.227273
    pax = on_all(allocation.passengers_from_seats, 180, 0.85)
    assert pax == rel(153)
    pax_kg = on_all(allocation.passenger_mass_kg, pax, 100)
    assert on_all(allocation.belly_freight_share, 4_500, pax_kg) == rel(4_500 / 19_800)


def test_ropax_peq_share_w13():
    # GLEC v3.0 p.121 Table 12: HGVs 612,000 of 1,277,250 peq; GLEC v3.0 multiplies 15,160,000 kg WTW by
    # the exact share 0.479155 -> 7,263,981 kg
    share = on_all(allocation.peq_share, 612_000, 1_277_250)
    assert share == rel(0.479155, abs=1e-6)
    assert share * 15_160_000 == rel(7_263_981, abs=1)
