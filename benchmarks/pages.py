"""The students' page at its caps: seconds to lay out and write the worksheet and key of the largest problems a
page holds (handout.PAGE_WIDTH units, PAGE_HIDDEN hidden layers, PAGE_SAMPLES samples), and their blanks.

    python benchmarks/pages.py
"""

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import random_problem  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from derivations import evaluate  # noqa: E402
from derivations.outputs.pdf import render_pdf  # noqa: E402
from derivations.outputs.page import render_text  # noqa: E402
from derivations.teaching import handout as h  # noqa: E402

W, D, S = h.PAGE_WIDTH, h.PAGE_HIDDEN, h.PAGE_SAMPLES
CASES = [
    ("handout shape, widest", (W, W, 2), "relu", "mse", False, 1, "softmax"),
    ("deepest, widest, sigmoid, biases, every sample", (W,) * (D + 2), "sigmoid", "bce", True, S, "sigmoid"),
    ("deepest, widest, tanh, softmax, every sample", (W,) * (D + 2), "tanh", "cross_entropy", True, S, "softmax"),
]

for name, layers, act, loss, bias, samples, output in CASES:
    t0 = time.perf_counter()
    values = evaluate(random_problem(7, layers, act, loss, bias, samples, output))
    t1 = time.perf_counter()
    page = h.layout(values)
    t2 = time.perf_counter()
    render_text(page, True), render_text(page, False)
    pdf = render_pdf(values, worksheet=True)
    t3 = time.perf_counter()
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"{name:48s} {'-'.join(map(str, layers)):12s} derive {t1 - t0:5.1f} s  layout {t2 - t1:5.1f} s  "
          f"text + PDF {t3 - t2:5.1f} s  {page.blanks()} blanks, {pages} A4 pages")
