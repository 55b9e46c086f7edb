"""Every output layer x loss pair on fresh random problems, against the independent oracles of the tests:
python benchmarks/outputs.py [N] [SEED]

Draws N problems per pair (default 5; shapes with 1 to 3 hidden layers, one output unit and several, biases
and batches, the activations in turn) from SEED (default: the clock, so these are problems no test has seen),
and prints, per pair, the largest relative difference of the engine's exact gradients (to 50 digits) from an
independent NumPy backprop (float64) and from mpmath central differences at 50 digits. Printed, not asserted.
"""

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import mpmath  # noqa: E402
import numpy as np  # noqa: E402

from conftest import random_problem  # noqa: E402
from derivations import evaluate  # noqa: E402
from derivations.engine.ops import ACTIVATIONS, LOSSES, OUTPUTS  # noqa: E402
from test_numeric import finite_differences, numpy_backprop  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
seed = int(sys.argv[2]) if len(sys.argv) > 2 else time.time_ns() % 10**9
rng = random.Random(seed)
pairs = [(o, l) for o in OUTPUTS for l in LOSSES if not LOSSES[l].outputs or o in LOSSES[l].outputs]
print(f"seed {seed}, {n} problems per pair")
for output, loss in pairs:
    worst_np = worst_fd = 0.0
    start = time.perf_counter()
    for k in range(n):
        depth = rng.randint(1, 3)
        layers = [rng.randint(1, 3)] + [rng.randint(1, 4) for _ in range(depth)]
        layers.append(rng.randint(OUTPUTS[output].min_outputs, 3))
        act = rng.choice(sorted(ACTIVATIONS))
        p = random_problem(rng.randrange(10**9), layers, act, loss, rng.random() < 0.5, rng.randint(1, 2), output)
        values = evaluate(p)
        ref, fd = numpy_backprop(p), finite_differences(p)
        mpmath.mp.dps = 50
        for name, m in values.gradients.items():
            for (i, j), exact in np.ndenumerate(np.array(m.tolist(), dtype=object)):
                got = mpmath.mpf(str(values.decimal(exact)))
                scale = max(abs(got), mpmath.mpf("1e-12"))
                worst_np = max(worst_np, float(abs(got - ref[name][i, j]) / scale))
                worst_fd = max(worst_fd, float(abs(got - fd[name][i][j]) / scale))
    print(f"{output:>8} + {loss:<13}: NumPy rel. diff <= {worst_np:.1e}, finite differences <= {worst_fd:.1e} "
          f"({time.perf_counter() - start:.1f} s)")
