"""The analysts' notebooks run top to bottom on the real shared data (executed with nbclient)."""
from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, corpora):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # every code cell produced something an analyst can read
    assert all(c.get("outputs") for c in nb.cells if c.cell_type == "code" and "import" not in c.source.split("\n")[-1])


def test_notebooks_import_the_package_and_hold_no_pipeline_logic():
    assert len(NOTEBOOKS) >= 3
    import nbformat
    for p in NOTEBOOKS:
        src = "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code")
        assert "from pipeline" in src
        assert "def " not in src and "class " not in src and "LogisticRegression" not in src
