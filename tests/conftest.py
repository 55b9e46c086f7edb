"""Shared fixtures: the handout problem, and seeded random problems for the numeric cross-checks (any depth,
every activation, both losses, with and without biases, one sample or several)."""

import random
import sys
from pathlib import Path

import pytest
from sympy import ImmutableMatrix, Rational

from derivations import Problem, derive, evaluate, load_problem, make_problem

from browser import browser, page  # noqa: F401,E402 (one headless Chromium for the whole session: tests/browser.py)

pytest_plugins = ("sphinx.testing.fixtures",)


@pytest.fixture(scope="session")
def handout():
    return load_problem()


@pytest.fixture(scope="session")
def handout_values(handout):
    return evaluate(derive(handout))


def load_benchmark(name: str):
    """A script of ``benchmarks/`` as a module (``benchmarks/marking.py``: ``load_benchmark("marking")``), for the
    tests that run part of it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def random_problem(seed: int, layers, activation, loss: str, bias: bool = False, samples: int = 1,
                   output: str = "softmax") -> Problem:
    """A seeded random problem with rational numbers; every hidden pre-activation kept at least 1/100 away
    from ReLU's kink (checked in exact arithmetic for the first layer, in floats with that margin after)."""
    rng = random.Random(seed)
    layers = tuple(layers)
    depth = len(layers) - 2
    acts = (activation,) * depth if isinstance(activation, str) else tuple(activation)

    def r(scale=100):
        return Rational(rng.randint(-scale, scale), scale)

    for _ in range(1000):
        xs = [tuple(r() * 2 for _ in range(layers[0])) for _ in range(samples)]
        weights = [ImmutableMatrix(layers[l + 1], layers[l], lambda i, j: r()) for l in range(len(layers) - 1)]
        biases = [tuple(r() for _ in range(layers[l + 1])) for l in range(len(layers) - 1)] if bias else None
        if _away_from_kinks(xs, weights, biases, acts):
            break
    if loss == "cross_entropy":
        ys = []
        for _ in range(samples):
            raw = [rng.randint(0, 5) for _ in range(layers[-1])]
            raw[0] += 1
            ys.append(tuple(Rational(v, sum(raw)) for v in raw))
    elif loss == "bce":  # targets in [0, 1]
        ys = [tuple(Rational(rng.randint(0, 10), 10) for _ in range(layers[-1])) for _ in range(samples)]
    else:
        ys = [tuple(r() for _ in range(layers[-1])) for _ in range(samples)]
    x, y = (xs[0], ys[0]) if samples == 1 else (xs, ys)
    return make_problem(layers, acts, loss, x, y, weights, biases, source=f"random seed {seed}", output=output)


def _away_from_kinks(xs, weights, biases, acts) -> bool:
    import math

    for x in xs:
        v = [float(e) for e in x]
        for l, act in enumerate(acts):
            W = weights[l]
            h = [sum(float(W[i, j]) * v[j] for j in range(W.cols)) + (float(biases[l][i]) if biases else 0.0)
                 for i in range(W.rows)]
            if any(abs(e) < 0.01 for e in h):
                return False
            v = {"relu": lambda e: max(e, 0.0), "leaky_relu": lambda e: e if e > 0 else e / 100,
                 "sigmoid": lambda e: 1 / (1 + math.exp(-e)), "tanh": math.tanh,
                 "softplus": lambda e: math.log1p(math.exp(e)), "identity": lambda e: e}[act]
            v = [v(e) for e in h]
    return True


COUNTED = Path(__file__).with_name("counted_build.py")  # python -m sphinx, counting the derivations it makes
ROOT = Path(__file__).resolve().parents[1]

# The session's long builds (the course site; tests/test_myst_build.py's MyST-MD project): each a function of an
# empty folder, registered under the name of the session fixture that returns its result. A build is made once
# for its inputs and shared (:func:`_shared`): by the test processes of one run (pytest-xdist's workers) and by
# the runs after it, until an input changes.
_BUILDS = {}
_STARTED = {}  # fixture name -> Future of the build's result, for the builds started with the session
# What a build depends on: these files' contents, and the versions of every installed distribution (Sphinx,
# its theme, SymPy, Typst, ...) and of MyST-MD.
INPUTS = ["docs", "docs-myst", "derivations", "conf.py", "pyproject.toml", "tests/conftest.py",
          "tests/counted_build.py", "tests/test_myst_build.py", ".ci/node/node_modules/mystmd/package.json"]


def background_build(name: str):
    """Register the decorated ``build(folder)`` as the session fixture ``name``'s build (see ``built``)."""
    def register(build):
        _BUILDS[name] = build
        return build
    return register


def built(name: str, tmp_path_factory):
    """The result of the build registered as ``name``: the one started when the session's tests were collected
    (``pytest_collection_finish``), waited for; else (a fixture the hook did not see) made or found now."""
    if name in _STARTED:
        return _STARTED[name].result()
    return _shared(name)


def inputs_key() -> str:
    """SHA-256 of everything a build depends on (:data:`INPUTS`, the installed distributions, Python's version)."""
    import hashlib
    import importlib.metadata

    h = hashlib.sha256(sys.version.encode())
    for d in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
        h.update(d.encode() + b"\n")
    for top in INPUTS:
        path = ROOT / top
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.is_file() else []
        for f in files:
            if "__pycache__" not in f.parts and "_build" not in f.relative_to(ROOT).parts:
                h.update(f"{f.relative_to(ROOT)}\0".encode() + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _shared(name: str):
    """The build ``name`` for the current inputs: made once, under a lock, in a folder outside the repository
    (so the docs are shown to build from anywhere), and read back by every later process and run while the
    inputs stay the same. A build that fails, or whose processes exit non-zero, is kept by no one: the next
    process builds again, and its tests fail again."""
    import fcntl
    import hashlib
    import pickle
    import shutil
    import tempfile

    cache = Path(tempfile.gettempdir()) / "derivations-test-builds" / hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    cache.mkdir(parents=True, exist_ok=True)
    folder = cache / f"{name}-{inputs_key()[:20]}"
    with open(cache / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        done = folder / "result.pickle"
        if done.is_file():
            return pickle.loads(done.read_bytes())
        for old in cache.glob(f"{name}-*"):  # an earlier input's build, or one cut short
            shutil.rmtree(old, ignore_errors=True)
        (folder / "build").mkdir(parents=True)
        result = _BUILDS[name](folder / "build")
        if _succeeded(result):
            done.write_bytes(pickle.dumps(result))
        return result


def _succeeded(result) -> bool:
    """No completed process in ``result`` exited non-zero."""
    import subprocess

    if isinstance(result, subprocess.CompletedProcess):
        return result.returncode == 0
    if isinstance(result, dict):
        return all(_succeeded(v) for v in result.values())
    if isinstance(result, (list, tuple)):
        return all(_succeeded(v) for v in result)
    return True


def pytest_collection_finish(session):
    """Start the session's long builds as soon as the tests that use them are collected, one after the other
    (the site first: the browser tests come first) in a background thread. Each build runs in its own
    processes, so it uses a core that pytest leaves idle; the build is the same, only its start is earlier.
    Builds no collected test uses are not started; one made before for the same inputs is read back."""
    from concurrent.futures import ThreadPoolExecutor

    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    names = [name for name in _BUILDS if name in wanted]
    if not names:
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="background-build")
    for name in names:
        _STARTED[name] = pool.submit(_shared, name)
    pool.shutdown(wait=False)


def pytest_sessionfinish(session):
    for future in _STARTED.values():
        future.exception()  # wait for it: never leave a build writing unattended


@background_build("sites")
def _build_sites(out: Path):
    """The course site, as the README builds it, from a copy of docs/ outside the repository (so it also shows
    that the docs build from any directory): the solution, and the students' worksheet with its self-check
    page, each counting the derivations it makes (tests/counted_build.py). The two builds run side by side
    (separate processes and folders)."""
    import shutil
    import subprocess

    root = ROOT
    shutil.copytree(root / "docs", out / "docs", ignore=shutil.ignore_patterns("_build"))
    builds = [subprocess.Popen([sys.executable, str(COUNTED), str(out / f"{folder}-derivations.json"), "-W", "--keep-going",
                                "-q", "-c", str(root), *extra, str(out / "docs"), str(out / folder)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for extra, folder in (([], "solution"), (["-t", "worksheet", "-t", "selfcheck"], "worksheet"))]
    for build in builds:
        _, stderr = build.communicate()
        assert build.returncode == 0, stderr
    return out / "solution", out / "worksheet"


@pytest.fixture(scope="session")
def sites(tmp_path_factory):
    """The course site built once for its inputs (``_build_sites``, shared: ``_shared``): the solution's and the
    worksheet's output folders, which no test writes into."""
    return built("sites", tmp_path_factory)
