"""The wheel as a TMS vendor installs it: built from this checkout, installed with its pinned
dependencies into a brand-new virtual environment outside the checkout, then used through the CLI
and the library. Proves the factor packs travel inside the wheel and the core install does not
bring the service's dependencies."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(*cmd, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(bin folder of a fresh venv holding only the wheel and its core dependencies, a work folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp / "dist", REPO, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("logistics_co2-*.whl")
    venv.create(tmp / "venv", with_pip=True)
    bin_dir = tmp / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "-c", REPO / "constraints.txt", wheel, cwd=tmp)
    work = tmp / "work"
    work.mkdir()
    return bin_dir, work


def clean_env(bin_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LOGISTICS_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_cli_help_and_sample_calculation(installed):
    bin_dir, work = installed
    env = clean_env(bin_dir)
    assert "calculate" in run(bin_dir / "logistics-co2", "--help", cwd=work, env=env)
    sample = run(bin_dir / "python", "-c",
                 "import importlib.resources as r; print(r.files('logistics.data.samples') / 'legs.csv')", cwd=work, env=env).strip()
    assert not sample.startswith(str(REPO)), sample  # read from the installed package, not the checkout
    out = run(bin_dir / "logistics-co2", "calculate", sample, "--out", "legs.csv", "--shipments-out", "shipments.csv",
              "--no-progress", cwd=work, env=env)
    assert "rejected       0" in out, out
    shipments = (work / "shipments.csv").read_text().splitlines()
    assert len(shipments) == 1 + 10  # header + the sample's 10 shipments


def test_library_call_uses_the_packs_inside_the_wheel(installed):
    bin_dir, work = installed
    # 1,000 kg over 100 km by an average EU articulated diesel truck: 100 tkm at the pack's
    # default intensity (checked against the pack's own row, so the figure is the wheel's data).
    script = (
        "import logistics, polars as pl\n"
        "pack = logistics.load_pack()\n"
        "assert 'site-packages' in str(pack.path), pack.path\n"
        "r = logistics.calculate(pl.DataFrame({'shipment_id': ['S1'], 'mode': ['road'], 'mass_kg': [1000.0],"
        " 'distance_km': [100.0], 'vehicle': ['artic_40t'], 'energy_carrier': ['diesel'], 'region': ['EU']}))\n"
        "row = r.legs.row(0, named=True)\n"
        "assert row['error'] is None, row['error']\n"
        "toc = pack.table('tocs').filter(pl.col('toc_id') == row['factor_id']).row(0, named=True)\n"
        "assert abs(row['co2e_wtw_kg'] - 100 * toc['wtw_g_co2e_per_tkm'] / 1000) < 1e-9\n"
        "print(pack.name, row['factor_id'], row['co2e_wtw_kg'])\n"
    )
    out = run(bin_dir / "python", "-c", script, cwd=work, env=clean_env(bin_dir))
    assert out.startswith("glec-v3.0 ")


def test_core_install_leaves_the_service_out(installed):
    bin_dir, work = installed
    env = clean_env(bin_dir)
    out = run(bin_dir / "python", "-c",
              "import importlib.util as u; print([m for m in ('fastapi', 'uvicorn', 'psycopg', 'api') if u.find_spec(m)])",
              cwd=work, env=env)
    assert out.strip() == "[]"
    refused = subprocess.run([bin_dir / "python", "-c", "import logistics_api.app"], cwd=work, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 1
    assert "pip install 'logistics-co2[service]'" in refused.stderr


def test_core_install_runs_without_pyspark(installed):
    # the library and its CLI import without Spark; logistics.spark and --engine spark say what to install
    bin_dir, work = installed
    env = clean_env(bin_dir)
    out = run(bin_dir / "python", "-c", "import importlib.util as u, logistics, logistics.cli; print(u.find_spec('pyspark'))",
              cwd=work, env=env)
    assert out.strip() == "None"
    refused = subprocess.run([bin_dir / "python", "-c", "import logistics.spark"], cwd=work, env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "pip install 'logistics-co2[spark]'" in refused.stderr
    cli = subprocess.run([bin_dir / "logistics-co2", "calculate", "legs.parquet", "--out", "out", "--engine", "spark"],
                         cwd=work, env=env, capture_output=True, text=True)
    assert cli.returncode == 2 and "pip install 'logistics-co2[spark]'" in cli.stderr
