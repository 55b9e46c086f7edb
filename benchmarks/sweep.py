"""The width sweep of the symmetry theorems, timed (printed, not asserted): python benchmarks/sweep.py

Statements 1-3 and the softmax lemma for inputs 1-4, hidden 1-8, outputs 2-4, every activation and loss.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivations.theorems import SWEEP, sweep  # noqa: E402

result = sweep()
ranges = ", ".join(f"{k} {min(v)}-{max(v)}" for k, v in SWEEP.items())
print(f"{result['checked']} theorems ({ranges}; relu, sigmoid, tanh, identity; mse, cross-entropy, general loss)")
print(f"not proved: {len(result['failed'])} {result['failed'][:5]}")
print(f"time: {result['seconds']:.1f} s")
