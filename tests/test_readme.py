"""The README's API tour runs as written (so the documentation cannot drift from the API)."""
from __future__ import annotations

import pathlib
import re


def test_readme_api_tour_runs():
    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    g = ns["g"]
    assert g.harmonic(10**12, 1.0) == 28.208236780830582  # correctly rounded (tests/test_sums.py)
    assert ns["S"].offsets.tolist() == [0, 768, 1536]
