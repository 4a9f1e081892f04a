"""environment.yml (for conda users) stays in step with pyproject.toml; import stays light."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_lists_exactly_the_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == "casekit"
    deps = env["dependencies"]
    assert any(isinstance(d, str) and d.startswith("python=3.11") for d in deps)
    assert "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip_section, "the package itself is installed through the pip section"
    listed = {line for line in pip_section if line != "-e ."}
    assert listed == wanted, (
        f"only in environment.yml: {sorted(listed - wanted)}; "
        f"only in pyproject.toml: {sorted(wanted - listed)}"
    )


def test_import_casekit_is_light() -> None:
    code = (
        "import sys, casekit, casekit.scoring, casekit.cli;"
        "heavy = {'pandas', 'matplotlib', 'ipywidgets', 'IPython', 'presidio_analyzer', 'spacy',"
        " 'statsmodels', 'scipy', 'torch'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scoring_with_the_reader_never_imports_torch() -> None:
    """PyTorch trains adapters (casekit.finetune); reading with them is NumPy only."""
    code = (
        "import sys, casekit.reader, casekit.training, casekit.scoring;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
