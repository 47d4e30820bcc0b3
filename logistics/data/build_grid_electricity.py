"""Build ``emission_factors/grid-electricity/grid_electricity.csv``: location-based grid factors.

Run by a maintainer when a source publishes a new edition, never at runtime:

    pip download --no-deps -d /tmp/wheels carbontracker==2.4.7 codecarbon==3.3.2
    python logistics/data/build_grid_electricity.py /tmp/wheels/carbontracker-2.4.7-py3-none-any.whl \
        /tmp/wheels/codecarbon-3.3.2-py3-none-any.whl
    logistics-co2 packs build emission_factors/grid-electricity

The wheels are read as zip files (nothing is installed). Three sources, one row per country or
grid region:

1. Countries: Our World in Data, grapher ``carbon-intensity-electricity`` ("carbon intensity of
   electricity generation", g CO2e per kWh generated, from Ember's yearly electricity data), the
   latest year of each country, as shipped in the carbontracker wheel (MIT) as
   ``carbontracker/data/carbon-intensities.csv``; its repository's
   ``scripts/create_carbon_intensity_csv.py`` names the chart and keeps each country's latest year.
2. US states and the US total: US EPA eGRID2023, "annual CO2 equivalent total output emission rate"
   (field ``STC2ERTA``, lb/MWh), as shipped in the codecarbon wheel (MIT) as
   ``codecarbon/data/private_infra/2023/usa_emissions.json``, which names the source, field and year.
   They replace the Our World in Data row of the US, so one country has one source.
3. Japan: the national average CO2 factor for FY2022 (令和4年度 全国平均係数), 0.000438 t-CO2/kWh, as
   used by the 全日本トラック協会 CO2簡易算定ツール Ver.3 (June 2024); it replaces the Our World in Data
   row of Japan (GLEC Framework v3.0, p.76: where national factors exist, use them).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from logistics.rules.electricity import kg_per_kwh_from_lb_per_mwh

OUT = Path(__file__).resolve().parents[2] / "emission_factors" / "grid-electricity" / "grid_electricity.csv"
VERSION = "2026-10"
COLUMNS = ["factor_id", "country", "grid_region", "grid_region_name", "data_year", "basis", "gases",
           "ttw_kg_co2e_per_kwh", "wtt_kg_co2e_per_kwh", "wtw_kg_co2e_per_kwh",
           "source", "source_page", "pack_version", "licence", "notes"]
OWID_SOURCE = ("Our World in Data, carbon intensity of electricity generation (grapher carbon-intensity-electricity;"
               " data from Ember), latest year per country as shipped in carbontracker 2.4.7"
               " (carbontracker/data/carbon-intensities.csv)")
OWID_NOTE = ("life-cycle g CO2e per kWh generated (Ember): no transmission and distribution losses, which GLEC"
             " Framework v3.0 pp.18, 106 ask to include; TTW 0 (p.77)")
EGRID_SOURCE = ("US EPA eGRID2023, annual CO2 equivalent total output emission rate (field STC2ERTA), as shipped in"
                " codecarbon 3.3.2 (codecarbon/data/private_infra/2023/usa_emissions.json)")
EGRID_NOTE = ("combustion emissions per kWh generated in the state: no upstream emissions and no transmission and"
              " distribution losses, which GLEC Framework v3.0 pp.18, 106 ask to include; TTW 0 (p.77)")
JP_ROW = {
    "factor_id": "grid-jp-fy2022", "country": "JP", "grid_region": "", "grid_region_name": "Japan",
    "data_year": 2022, "basis": "not_stated", "gases": "CO2",
    "ttw_kg_co2e_per_kwh": 0, "wtt_kg_co2e_per_kwh": 0.438, "wtw_kg_co2e_per_kwh": 0.438,
    "source": "環境省・経済産業省 電気事業者別排出係数, 全国平均係数 令和4年度 (FY2022) 0.000438 t-CO2/kWh, as used by"
              " 全日本トラック協会 CO2簡易算定ツール Ver.3 (June 2024)",
    "source_page": "全国平均係数 R4 (FY2022)", "pack_version": VERSION, "licence": "JP-gov-figures-unconfirmed",
    "notes": "CO2 only, one secondary source; 0.000438 t-CO2/kWh = 0.438 kg/kWh; TTW 0 (GLEC Framework v3.0 p.77);"
             " replaces the Our World in Data row for Japan (national factors first, GLEC Framework v3.0 p.76)",
}


def _read(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as z:
        return z.read(member).decode("utf-8")


def owid_rows(wheel: Path) -> list[dict]:
    rows = []
    for r in csv.DictReader(io.StringIO(_read(wheel, "carbontracker/data/carbon-intensities.csv"))):
        code = r["alpha-2"].strip()
        if code in ("US", "JP"):
            continue
        g = float(r["Carbon intensity of electricity (gCO2eq/kWh)"])
        rows.append({
            "factor_id": f"grid-{code.lower()}-{r['Year']}", "country": code, "grid_region": "",
            "grid_region_name": r["Entity"], "data_year": int(r["Year"]), "basis": "generation", "gases": "CO2e",
            "ttw_kg_co2e_per_kwh": 0, "wtt_kg_co2e_per_kwh": round(g / 1000, 9), "wtw_kg_co2e_per_kwh": round(g / 1000, 9),
            "source": OWID_SOURCE,
            "source_page": f"{r['Entity']} ({r['Code']}), {r['Year']}: {r['Carbon intensity of electricity (gCO2eq/kWh)']} g CO2e/kWh",
            "pack_version": VERSION, "licence": "CC-BY-4.0", "notes": OWID_NOTE,
        })
    return rows


def egrid_rows(wheel: Path) -> list[dict]:
    data = json.loads(_read(wheel, "codecarbon/data/private_infra/2023/usa_emissions.json"))
    year = int(data["_source"]["year"])
    rows = []
    for name, r in data.items():
        if name.startswith("_"):
            continue
        region = "" if name == "usa" else f"US-{r['regionCode']}"
        kg = round(kg_per_kwh_from_lb_per_mwh(float(r["emissions"])), 9)
        rows.append({
            "factor_id": f"grid-us-{year}" if not region else f"grid-{region.lower()}-{year}", "country": "US",
            "grid_region": region, "grid_region_name": "United States" if not region else name.title(),
            "data_year": year, "basis": "generation", "gases": "CO2e",
            "ttw_kg_co2e_per_kwh": 0, "wtt_kg_co2e_per_kwh": kg, "wtw_kg_co2e_per_kwh": kg,
            "source": EGRID_SOURCE, "source_page": f"{name}: {r['emissions']} lb/MWh",
            "pack_version": VERSION, "licence": "US-Gov-public-domain",
            "notes": f"{r['emissions']} lb/MWh x 0.45359237 kg/lb / 1000 kWh/MWh; " + EGRID_NOTE,
        })
    return rows


def main(carbontracker_wheel: str, codecarbon_wheel: str) -> None:
    rows = owid_rows(Path(carbontracker_wheel)) + egrid_rows(Path(codecarbon_wheel)) + [JP_ROW]
    rows.sort(key=lambda r: (r["country"], r["grid_region"]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
