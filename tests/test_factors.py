"""Factor packs: CSV and Parquet agree, every row has provenance, spot values equal the reference
tables of GLEC Framework v3.0 (pages next to each), malformed packs fail with file, row and column."""

import json
import re
import shutil

import polars as pl
import pytest

from logistics.factors import PACKS_DIR, SCHEMAS, PackError, load_pack

SHIPPED = sorted(d.name for d in PACKS_DIR.iterdir() if (d / "pack.json").exists())


@pytest.mark.parametrize("name", SHIPPED)
def test_csv_and_parquet_agree(name):
    from_parquet = load_pack(name, prefer="parquet", includes=False)
    from_csv = load_pack(name, prefer="csv", includes=False)
    assert from_parquet.tables.keys() == from_csv.tables.keys()
    for table, df in from_csv.tables.items():
        assert (PACKS_DIR / name / f"{table}.parquet").exists(), f"{name}/{table}.parquet missing: run the pack build"
        assert from_parquet.tables[table].equals(df), f"{name}/{table}: Parquet differs from CSV; rebuild the pack"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_row_has_provenance(name):
    pack = load_pack(name, includes=False)  # included packs are checked under their own names
    for table, df in pack.tables.items():
        for col in ("source", "pack_version", "licence"):
            assert df[col].null_count() == 0, f"{name}/{table}.{col}"
        assert set(df["pack_version"].unique()) == {pack.version}, f"{name}/{table}: pack_version differs from pack.json"
    assert pack.meta["licence"]


def value(pack, table, key_col, key, col):
    row = pack.table(table).filter(pl.col(key_col) == key)
    assert row.height == 1, f"{table} {key}"
    return row[col][0]


@pytest.mark.parametrize(
    "table,key_col,criteria,col,expected",
    [
        # GLEC v3.0 p.77 (EU fuels, kg basis) and pp.79–80 (North America)
        ("fuels", "factor_id", {"energy_carrier": "diesel", "fuel_region": "EU", "unit": "kg"}, "wtw_kg_co2e_per_unit", 4.13),
        ("fuels", "factor_id", {"energy_carrier": "diesel", "fuel_region": "EU", "unit": "kg"}, "ttw_kg_co2e_per_unit", 3.17),
        ("fuels", "factor_id", {"energy_carrier": "vlsfo", "fuel_region": "NA", "unit": "kg"}, "wtw_kg_co2e_per_unit", 3.79),
        ("fuels", "factor_id", {"energy_carrier": "jet_kerosene", "fuel_region": "EU", "unit": "kg"}, "wtw_kg_co2e_per_unit", 4.02),
        # p.122 per-litre diesel used in GLEC v3.0's examples
        ("fuels", "factor_id", {"energy_carrier": "diesel", "fuel_region": "EU", "unit": "l"}, "wtw_kg_co2e_per_unit", 3.44),
        # p.92 road rigid 12–20 t CNG: 51 / 126 / 177 g/tkm
        ("tocs", "toc_id", {"mode": "road", "vehicle": "rigid_12-20t", "energy_carrier": "cng"}, "wtw_g_co2e_per_tkm", 177.0),
        # p.93 artic ≤72 t heavy: 46 g/tkm
        ("tocs", "toc_id", {"mode": "road", "vehicle": "artic_72t", "load_type": "heavy"}, "wtw_g_co2e_per_tkm", 46.0),
        # pp.95–98 bulk carrier 35,000–59,999 dwt VLSFO 0.9 / 5.4 / 6.4
        ("tocs", "toc_id", {"vehicle": "bulk_carrier_35000-59999dwt", "energy_carrier": "vlsfo"}, "wtw_g_co2e_per_tkm", 6.4),
        # pp.98–100 trans-Pacific reefer 161.0 g/TEU-km
        ("tocs", "toc_id", {"trade_lane": "trans_pacific", "temperature_control": "refrigerated"}, "wtw_g_co2e_per_teu_km", 161.0),
        # p.85 belly freight short haul TTW 978
        ("tocs", "toc_id", {"mode": "air", "vehicle": "belly", "flight_length": "short_haul"}, "ttw_g_co2e_per_tkm", 978.0),
        # p.86 pushed convoy 6 barges 7.8
        ("tocs", "toc_id", {"vehicle": "pushed_convoy_6_barges"}, "wtw_g_co2e_per_tkm", 7.8),
        # p.88 EU diesel rail, cereals 19.9
        ("tocs", "toc_id", {"mode": "rail", "energy_carrier": "diesel", "load_type": "cereals"}, "wtw_g_co2e_per_tkm", 19.9),
        # p.87 maritime container terminal, temperature-controlled 12.6 kg per container
        ("hocs", "hoc_id", {"hub_type": "maritime_container_terminal", "temperature_control": "refrigerated"}, "wtw_kg_co2e_per_teu", 12.6),
        # pp.101–102 R-404A GWP100 AR6 4728
        ("refrigerants", "refrigerant", {"refrigerant": "R-404A"}, "gwp100", 4728.0),
    ],
)
def test_glec_spot_values(table, key_col, criteria, col, expected):
    df = load_pack("glec-v3.0").table(table)
    for k, v in criteria.items():
        df = df.filter(pl.col(k) == v)
    assert df.height == 1, f"{criteria} matches {df.height} rows"
    assert df[col][0] == pytest.approx(expected)


def test_desnz_spot_value():
    # DESNZ 2025 artic >33 t average laden: 0.07703 + 0.01799 kg/tkm = 95.02 g/tkm WTW
    df = load_pack("desnz-2025").table("tocs").filter(
        (pl.col("vehicle") == "artic_33t+") & (pl.col("load_type") == "average") & (pl.col("temperature_control") == "ambient"))
    assert df["wtw_g_co2e_per_tkm"][0] == pytest.approx(95.02)
    assert df["licence"][0] == "OGL-3.0"


@pytest.fixture
def pack_copy(tmp_path):
    dst = tmp_path / "mine"
    shutil.copytree(PACKS_DIR / "glec-v3.0", dst)
    for p in dst.glob("*.parquet"):
        p.unlink()  # so the CSV is what is read
    return dst


def _edit_csv(path, row, col, new):
    df = pl.read_csv(path, infer_schema=False)
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == row - 2).then(pl.lit(new)).otherwise(pl.col(col)).alias(col))
    df.write_csv(path)


def test_user_pack_directory_loads(pack_copy):
    pack = load_pack(pack_copy)
    assert pack.name == "glec-v3.0"
    assert pack.table("tocs").height == load_pack("glec-v3.0").table("tocs").height


@pytest.mark.parametrize(
    "col,new,message",
    [
        ("wtw_g_co2e_per_tkm", "abc", "tocs.csv: row 5, column wtw_g_co2e_per_tkm: 'abc' is not a number"),
        ("licence", "", "tocs.csv: row 5, column licence: value is required"),
        ("mode", "truck", "tocs.csv: row 5, column mode: 'truck' is not one of"),
        ("wtw_g_co2e_per_tkm", "-1", "tocs.csv: row 5, column wtw_g_co2e_per_tkm: -1.0 is negative"),
    ],
)
def test_malformed_pack_names_file_row_column(pack_copy, col, new, message):
    _edit_csv(pack_copy / "tocs.csv", 5, col, new)
    with pytest.raises(PackError, match=message.replace("(", r"\(")):
        load_pack(pack_copy)


def test_wtw_must_equal_ttw_plus_wtt(pack_copy):
    # row 10 is a Table 7/8 row with all three values; 3× its WTW cannot be TTW + WTT
    df = pl.read_csv(pack_copy / "tocs.csv", infer_schema=False)
    wtw = float(df["wtw_g_co2e_per_tkm"][8])
    assert df["ttw_g_co2e_per_tkm"][8] is not None
    _edit_csv(pack_copy / "tocs.csv", 10, "wtw_g_co2e_per_tkm", str(wtw * 3))
    with pytest.raises(PackError, match=r"row 10, column wtw_g_co2e_per_tkm: .* is not ttw_g_co2e_per_tkm"):
        load_pack(pack_copy)


def test_duplicate_key_and_missing_meta(pack_copy):
    df = pl.read_csv(pack_copy / "hocs.csv", infer_schema=False)
    pl.concat([df, df.head(1)]).write_csv(pack_copy / "hocs.csv")
    with pytest.raises(PackError, match=r"hocs.csv: row 12, column hoc_id: .* is not unique"):
        load_pack(pack_copy)
    (pack_copy / "pack.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(PackError, match=re.escape("pack.json: field 'version' is required")):
        load_pack(pack_copy)


def test_unknown_pack_lists_shipped():
    with pytest.raises(PackError, match=re.escape("glec-v3.0")):
        load_pack("no-such-pack")


def test_schemas_carry_provenance():
    for table, schema in SCHEMAS.items():
        assert {"source", "source_page", "pack_version", "licence"} <= set(schema), table


def test_every_default_toc_and_hoc_names_its_energy_carriers():
    """So that default factors export without a hand-written mix: each carrier has an iLEAP name
    and a fuel factor in the pack, and the shares of a mix add up to 1."""
    from logistics.exchange.ileap import ENERGY_CARRIERS
    from logistics.factors import energy_mix

    pack = load_pack("glec-v3.0")
    carriers = set(pack.table("fuels")["energy_carrier"])
    for table in ("tocs", "hocs"):
        rows = pack.table(table)
        assert rows["energy_carriers"].null_count() == 0, table
        for cell in rows["energy_carriers"].unique():
            mix = energy_mix(cell)
            assert {c for c, _ in mix} <= carriers & set(ENERGY_CARRIERS), cell
    # the rows whose carrier is not printed beside them cite where it comes from
    derived = pack.table("tocs").filter(pl.col("energy_carrier").is_null() | pl.col("energy_carriers").str.contains("|", literal=True))
    assert derived.height > 100 and derived["notes"].str.contains("energy_carriers").all()
    desnz = load_pack("desnz-2025").table("tocs")
    unnamed = desnz.filter(pl.col("energy_carriers").is_null())
    assert unnamed["notes"].str.contains("energy_carriers: not stated").all()
    assert set(unnamed["mode"]) == {"road", "rail", "sea"}  # PHEV/unknown vans, freight train, ships


@pytest.mark.parametrize(("cell", "message"), [
    ("electricity|diesel", "give carrier:share for each of several carriers"),
    ("electricity:0.6|diesel:0.6", "shares add up to 1.2, not 1"),
    ("diesel:half", "share 'half' is not a number"),
])
def test_a_bad_energy_mix_names_row_and_column(tmp_path, cell, message):
    from logistics.factors import PackError, conform_table

    raw = pl.DataFrame({"hoc_id": ["h"], "hub_type": ["warehouse"], "data_type": ["default"], "energy_carriers": [cell],
                        "source": ["s"], "pack_version": ["1"], "licence": ["l"]})
    with pytest.raises(PackError, match=f"hocs.csv: row 2, column energy_carriers: '.*': {message}"):
        conform_table(raw, "hocs", "hocs.csv")
