"""No surprises on install: gsa_fast needs only numpy and scipy-openblas32 at run time."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_runs_without_scipy_mpmath_or_ml_dtypes():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("scipy", "mpmath", "ml_dtypes", "cupy", "hypothesis"):
                    raise ImportError(f"blocked {name}")
        sys.meta_path.insert(0, Block())
        import numpy as np, gsa_fast as g
        from gsa_fast import reference as ref
        s = g.svdvals(np.random.default_rng(0).standard_normal((3, 20, 10)))
        assert g.truncation_rank(s, 0.1).shape == (3,)
        assert np.isfinite(g.fit_exponent(s, chart="bures")).all()
        assert abs(ref.bures_length(0.5, 1.0, 64) - 4.4945584802005) < 1e-9
        assert ref.plateau_thresholds(0.1, 50, 1)[0] > 1.8
        print("ok", g.build_info()["blas"])
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")
