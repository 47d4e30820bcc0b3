"""CLI for the allocation and derivation cases of GLEC Framework v3.0 (Smart Freight Centre,
revision 2024-04-02): rounds (p.107), Ro-Pax (p.121), belly freight, refrigerated hubs, the open pack
and the Japanese commands. Golden values are the worked examples or hand calculations beside them."""

import polars as pl
import pytest
from typer.testing import CliRunner

from logistics.cli import SAMPLES, app

runner = CliRunner()
rel = pytest.approx


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_allocate_rounds_w6(tmp_path):
    # GLEC v3.0 p.107 Table 2: drops 5, 2, 1, 4, 0.6 t at SFD 5, 6, 10, 8, 6 km -> shares 25/82.6 ...
    drops = write(tmp_path / "drops.csv", "round_id,client,mass_kg,sfd_km\n" + "".join(
        f"A,{c},{m},{k}\n" for c, m, k in [(1, 5000, 5), (2, 2000, 6), (3, 1000, 10), (4, 4000, 8), (5, 600, 6)]))
    rounds = write(tmp_path / "rounds.csv", "round_id,co2e_wtw_kg\nA,34.4\n")  # 10 l diesel × 3.44 kg/l
    r = run("allocate", "rounds", drops, "--rounds", rounds, "--out", tmp_path / "out.csv")
    assert r.exit_code == 0, r.output
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["notional_tkm"].to_list() == rel([25, 12, 10, 32, 3.6])
    assert out["share"].round(2).to_list() == [0.30, 0.15, 0.12, 0.39, 0.04]
    # the CSV carries figures for people: 6 significant digits
    assert out["co2e_wtw_kg"].to_list() == rel([34.4 * t / 82.6 for t in (25, 12, 10, 32, 3.6)], rel=1e-5)
    r = run("allocate", "rounds", drops, "--rounds", write(tmp_path / "r2.csv", "round_id,co2e_wtw_kg\nB,1\n"), "--out", tmp_path / "o.csv")
    assert r.exit_code == 2 and "no emissions for round_id A" in r.output


def test_allocate_ropax_w13(tmp_path):
    units = write(tmp_path / "units.csv", "unit,count\npassenger,478500\ncar,90000\nbus,1000\ncaravan_small,500\n"
                  "caravan_medium,500\ncaravan_large,500\nmotorcycle,1000\nunaccompanied_trailer,4000\narticulated_truck,34000\n")
    r = run("allocate", "ropax", units, "--total", "co2e_wtw_kg=15160000", "--total", "co2e_ttw_kg=12920000",
            "--out", tmp_path / "out.csv")
    assert r.exit_code == 0, r.output
    out = pl.read_csv(tmp_path / "out.csv")
    hgv = out.filter(pl.col("unit") == "articulated_truck").row(0, named=True)
    trailers = out.filter(pl.col("unit") == "unaccompanied_trailer").row(0, named=True)
    # GLEC v3.0 p.121 Table 12: 1,277,250 peq; HGVs 7,263,981 / 6,190,675 kg, trailers 664,678 / 566,467 kg
    assert out["peq"].sum() == rel(1_277_250)
    # the CSV carries figures for people: 6 significant digits
    assert (hgv["co2e_wtw_kg"], hgv["co2e_ttw_kg"]) == (rel(7_263_981, abs=10), rel(6_190_675, abs=10))
    assert (trailers["co2e_wtw_kg"], trailers["co2e_ttw_kg"]) == (rel(664_678, abs=1), rel(566_467, abs=1))
    r = run("allocate", "ropax", write(tmp_path / "u.csv", "unit,count\nlorry,3\n"), "--out", tmp_path / "o.csv")
    assert r.exit_code == 2 and "unknown unit type(s) ['lorry']" in r.output


def test_tocs_derive_belly_flight_and_freight_units(tmp_path):
    flights = write(tmp_path / "flights.csv",
                    "toc_id,mode,vehicle,fuel_amount,fuel_unit,energy_carrier,region,mass_kg,distance_km,passengers\n"
                    "f1,air,belly,40000,kg,jet_kerosene,EU,7500,5000,300\nf2,air,belly,40000,kg,jet_kerosene,EU,7500,5000,\n")
    r = run("tocs", "derive", flights, "--out", tmp_path / "tocs.csv")
    assert r.exit_code == 0, r.output
    tocs = pl.read_csv(tmp_path / "tocs.csv")
    # 40,000 kg × 4.02 × 7,500 / (7,500 + 300 × 100) / 37,500 tkm = 857.6 g/tkm
    assert tocs["toc_id"].to_list() == ["f1"] and tocs["wtw_g_co2e_per_tkm"][0] == rel(857.6)
    assert "record 2: passengers: missing for a passenger flight" in r.output
    r = run("tocs", "derive", flights, "--out", tmp_path / "t.csv", "--freight-units", "lorry")
    assert r.exit_code == 2 and "freight_units: lorry" in r.output


def test_hocs_derive_shared_energy_with_default(tmp_path):
    hub = write(tmp_path / "hub.csv",
                "hoc_id,hub_type,energy_use,fuel_amount,fuel_unit,energy_carrier,region,outbound_t,temperature_control\n"
                "h1,warehouse,,100000,kWh,electricity,EU,,\nh1,warehouse,refrigeration,40000,kWh,electricity,EU,,\n"
                "h1,warehouse,,,,,,40000,ambient\nh1,warehouse,,,,,,10000,refrigerated\n")
    r = run("hocs", "derive", hub, "--out", tmp_path / "hocs.csv", "--default", "energy_use=shared")
    assert r.exit_code == 0, r.output
    hocs = pl.read_csv(tmp_path / "hocs.csv")
    # 34,920 kg / 50,000 t = 0.6984; + 13,968 kg / 10,000 t = 2.0952 kg/t (GLEC v3.0 p.123 form)
    assert dict(zip(hocs["hoc_id"], hocs["wtw_kg_co2e_per_t"], strict=True)) == {"h1-ambient": rel(0.6984), "h1-refrigerated": rel(2.0952)}


def test_sample_runs_on_the_open_pack(tmp_path):
    r = run("calculate", SAMPLES / "legs.csv", "--pack", "open-2025", "--out", tmp_path / "r.csv", "--errors-out",
            tmp_path / "e.csv", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "computed       9" in r.output and "rejected       10" in r.output
    assert pl.read_csv(tmp_path / "e.csv").height == 10
