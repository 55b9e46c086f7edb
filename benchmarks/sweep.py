"""The width sweep of the symmetry theorems, timed (printed, not asserted): python benchmarks/sweep.py

Statements 1-3 and the softmax lemma for 1-3 hidden layers, every width in the sweep, every activation and
softmax loss, with and without biases; over one hidden layer, the sigmoid and identity outputs (symmetry and
permanence proved, the dead first layer refuted).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivations.engine.ops import ACTIVATIONS  # noqa: E402
from derivations.engine.theorems import SWEEP, SWEEP_OTHER, sweep  # noqa: E402

result = sweep()
ranges = ", ".join(f"{k} {min(v)}-{max(v)}" for k, v in SWEEP.items())
others = ", ".join(f"{o} + {l}" for o, l in SWEEP_OTHER["pairs"])
print(f"{result['checked']} theorems ({ranges}; {', '.join(ACTIVATIONS)}; softmax + mse, cross_entropy, general loss; "
      f"{others} over one hidden layer and 1-3 outputs; with and without biases)")
print(f"not as expected (proved, or refuted without a softmax): {len(result['failed'])} {result['failed'][:5]}")
print(f"time: {result['seconds']:.1f} s")
