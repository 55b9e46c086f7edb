"""The width sweep of the symmetry theorems, timed (printed, not asserted): python benchmarks/sweep.py

Statements 1-3 and the softmax lemma for 1-3 hidden layers, every width in the sweep, every activation and
loss, with and without biases.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivations.ops import ACTIVATIONS, LOSSES  # noqa: E402
from derivations.theorems import SWEEP, sweep  # noqa: E402

result = sweep()
ranges = ", ".join(f"{k} {min(v)}-{max(v)}" for k, v in SWEEP.items())
print(f"{result['checked']} theorems ({ranges}; {', '.join(ACTIVATIONS)}; {', '.join(LOSSES)}, general loss; "
      "with and without biases)")
print(f"not proved: {len(result['failed'])} {result['failed'][:5]}")
print(f"time: {result['seconds']:.1f} s")
