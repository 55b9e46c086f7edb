"""Hostile input and hostile output: every case is one line and exit 2 (or works, if it is valid), never a
traceback, and ends in well under a second or two (hangs are bounded by subprocess timeouts)."""

import contextlib
import functools
import io
import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Rational

from derivations import ProblemError, load_problem
from derivations.cli.cli_io import ASCII
from derivations.cli.print import main
from derivations.engine.reading import MAX_DEPTH, MAX_DIGITS, MAX_FILE_BYTES, MAX_STRING, parse_number, quote

CLI = [sys.executable, "-m", "derivations.print"]
TIMEOUT = 60  # far above the ~0.5 s these take: only there so that a regression hangs a test, not CI

NETWORK = '[network]\nlayers = [3, 4, 2]\nactivation = "relu"\nloss = "mse"\n'
INIT = "[init]\nW_a = 0.1\nW_b = 0.1\n"


def problem(x="[0.9, 0.5, 0.1]", y="[1, 0]", network=NETWORK, init=INIT):
    return f"{network}[data]\nx = {x}\ny = {y}\n{init}"


def write(tmp_path, content, name="p.toml"):
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else lambda t: path.write_text(t, encoding="utf-8"))(content)
    return str(path)


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), f"expected one line, got {err[:500]!r}"
    serial = re.sub(r"/popen-gw\d+/", "/", err)  # as long as in a serial run: pytest-xdist's worker folder left out
    assert len(serial) < 300, f"expected a short line, got {len(serial)} characters: {err[:300]!r}"
    return err


posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only: FIFOs, /dev/zero, shell redirections")
dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")


def run(args, timeout=TIMEOUT, **kwargs):
    return subprocess.run(CLI + args, capture_output=True, timeout=timeout, **kwargs)


# --- files that are not problem files -------------------------------------------------------------------

@posix
def test_dev_zero_is_refused_before_reading():
    out = run(["--config", "/dev/zero"], text=True)
    assert out.returncode == 2
    assert "config: expected a regular TOML file, but /dev/zero is a device" in one_line(out.stderr)


@posix
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    out = run(["--config", str(fifo)], text=True)  # opening a FIFO with no writer would block forever
    assert out.returncode == 2
    assert "is a FIFO" in one_line(out.stderr)


def test_directory_is_refused(tmp_path):
    out = run(["--config", str(tmp_path)], text=True)
    assert out.returncode == 2
    assert "config: expected a regular TOML file" in one_line(out.stderr) and "is a directory" in out.stderr


# --- file contents: one line naming the field, exit 2 ------------------------------------------------------

DEEP = 5000
HOSTILE = {
    "oversized file": (problem() + "#" * MAX_FILE_BYTES, f"config: expected a TOML file of at most {MAX_FILE_BYTES} bytes"),
    "1 MB value": (problem(network=NETWORK.replace('"relu"', '"' + "r" * 1_000_000 + '"')), "config: expected a TOML file of at most"),
    "5000-digit TOML integer": (problem(x="[1, 2, " + "7" * 5000 + "]"), "config: expected numbers of at most 60 digits, but line 6"),
    "61-digit TOML integer": (problem(x="[1, 2, " + "7" * 61 + "]"), "data.x[3]: expected a number of at most 60 digits"),
    "huge hexadecimal integer": (problem(x="[1, 2, 0x" + "f" * 20000 + "]"), "data.x[3]: expected a number of at most 60 digits, got an integer of over 3900 digits"),
    "huge width": (problem(network=NETWORK.replace("[3, 4, 2]", "[3, " + "4" * 4000 + ", 2]")), "network.layers[2]: expected a number of at most 60 digits"),
    "5000-digit string number": (problem(x='[1, 2, "' + "7" * 5000 + '"]'), f"data.x[3]: expected a string of at most {MAX_STRING} characters, got 5000"),
    "100-digit string number": (problem(x='[1, 2, "' + "7" * 100 + '"]'), "data.x[3]: expected a number of at most 60 digits, got '777"),
    "huge fraction denominator": (problem(x='[1, 2, "1/' + "9" * 5000 + '"]'), "data.x[3]: expected a string of at most"),
    "100-digit fraction denominator": (problem(x='[1, 2, "1/' + "9" * 100 + '"]'), "data.x[3]: expected a number of at most 60 digits"),
    "fraction by zero": (problem(x='[1, 2, "3/0"]'), "data.x[3]: expected a number, got '3/0' (division by zero)"),
    "huge exponent string": (problem(x='[1, 2, "1e99999999999999999999"]'), "data.x[3]: expected an exponent from -400 to 400"),
    "huge exponent float": (problem(x="[1, 2, 1e99999999999999999999]"), "data.x[3]: expected an exponent from -400 to 400, got 1e99999999999999999999"),
    "exponent 401": (problem(x="[1, 2, 1e-401]"), "data.x[3]: expected an exponent from -400 to 400"),
    "4299 ones and e400, a string": (problem(x='[1, 2, "' + "1" * 4299 + 'e400"]'), "data.x[3]: expected a string of at most"),
    "4299 ones and e400, a float": (problem(x="[1, 2, " + "1" * 4299 + "e400]"), "data.x[3]: expected a number of at most 60 digits"),
    "61 ones and e4, a float": (problem(x="[1, 2, " + "1" * 61 + "e4]"), "data.x[3]: expected a number of at most 60 digits, got 1111"),
    "infinite float": (problem(x="[1, 2, -inf]"), "data.x[3]: expected a finite number, got -inf"),
    "nan string": (problem(x='[1, 2, "nan"]'), "data.x[3]: expected a finite number, got 'nan'"),
    "deeply nested arrays": (problem(x="[" * DEEP + "]" * DEEP), f"config: expected at most {MAX_DEPTH} levels of nested tables and arrays"),
    "nested arrays just too deep": (problem(x="[[[1]]]"), f"data.x[1][1]: expected at most {MAX_DEPTH} levels"),
    "deeply nested inline tables": (problem(x="{a = " * DEEP + "1" + "}" * DEEP), f"config: expected at most {MAX_DEPTH} levels"),
    "deeply nested table headers": ("[" + ".".join(["a"] * DEEP) + "]\n", f"a.a.a.a: expected at most {MAX_DEPTH} levels"),
    "deeply nested dotted keys": ("a" + ".a" * DEEP + " = 1\n", f"a.a.a.a: expected at most {MAX_DEPTH} levels"),
    "Arabic-Indic digit": (problem(x='["\u0661", 2, 3]'), "data.x[1]: expected a number like 0.9"),
    "full-width digit": (problem(x='[1, "\uff19/10", 3]'), "data.x[2]: expected a number like 0.9"),
    "superscript digit": (problem(x='[1, 2, "1e\u00b2"]'), "data.x[3]: expected a number like 0.9"),
    "key with newlines": (problem() + '"evil\\nkey\\n" = 1\n', "init.'evil\\nkey\\n': unknown parameter"),
    "section with newlines": ('["evil\\n\\n"]\na = 1\n', "'evil\\n\\n': unknown section"),
    "value with newlines": (problem(network=NETWORK.replace('"relu"', '"relu\\nPWNED\\n"')), "network.activation: expected one of"),
    "200 kB value": (problem(network=NETWORK.replace('"relu"', '"' + "r" * 200_000 + '"')), "network.activation: expected a string of at most 256 characters, got 200000"),
    "200 kB key": (problem() + '"' + "k" * 200_000 + '" = 1\n', "expected a key of at most 256 characters, got 200000"),
    "not UTF-8": (problem().encode() + b"# \xff\xfe\n", "config: expected UTF-8 text, but byte"),
    "NUL byte": (problem() + "\x00", "config: expected valid TOML"),
    "date as a number": (problem(x="[1979-05-27, 2, 3]"), "data.x[1]: expected a number, got date"),
    "float where a list goes": (problem(x="0.5"), "data.x: expected a list of 3 numbers (one per input), got a number"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_file_gets_one_line_and_exit_2(tmp_path, capsys, case):
    content, message = HOSTILE[case]
    assert main(["--config", write(tmp_path, content)]) == 2
    err = one_line(capsys.readouterr().err)
    assert message in err, f"{message!r} not in {err!r}"


@pytest.mark.parametrize("case", ["5000-digit TOML integer", "deeply nested arrays", "huge exponent float", "key with newlines"])
def test_hostile_file_end_to_end(tmp_path, case):
    content, message = HOSTILE[case]
    out = run(["--config", write(tmp_path, content)], text=True)
    assert out.returncode == 2 and message in one_line(out.stderr)


@pytest.mark.parametrize("exists", [True, False])
def test_path_with_newlines_is_quoted(tmp_path, capsys, exists):
    path = tmp_path / "evil\nname.toml"
    if exists:
        path.write_text(problem(y="[1]"), encoding="utf-8")
    assert main(["--config", str(path)]) == 2
    assert "evil\\nname.toml" in one_line(capsys.readouterr().err)


# --- valid input that must work, exactly -------------------------------------------------------------------

def test_bom_file_works(tmp_path, capsys):
    assert main(["--config", write(tmp_path, b"\xef\xbb\xbf" + problem().encode())]) == 0
    assert "-3/80" in capsys.readouterr().out.replace("−", "-")


def test_file_without_init_uses_the_default(tmp_path):
    p = load_problem(write(tmp_path, problem(init="")))
    assert p.W_a[0, 0] == Rational(1, 10) and p.W_b[1, 3] == Rational(1, 10)


def test_tiny_float_is_read_exactly(tmp_path, capsys):
    assert main(["--config", write(tmp_path, problem(x="[1e-400, 0.5, 0.1]")), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert Rational(data["problem"]["x"][0]["exact"]) == Rational(1, 10**400)
    assert Rational(data["forward"]["H"][0]["exact"]) == Rational(6, 100) + Rational(1, 10**401)  # not 0.06


def test_long_float_is_not_rounded_to_a_double(tmp_path):
    p = load_problem(write(tmp_path, problem(x="[0.10000000000000000001, 1_000.5, -0.0]")))
    assert p.x == (Rational(10**19 + 1, 10**20), Rational(2001, 2), 0)
    assert p.x[0] != Rational(1, 10)


def test_number_spellings(tmp_path):
    p = load_problem(write(tmp_path, problem(x='["−0.5", ".15", "9/10"]', y='["1e-2", "+3"]')))
    assert p.x == (Rational(-1, 2), Rational(3, 20), Rational(9, 10)) and p.y == (Rational(1, 100), 3)


@pytest.mark.parametrize("text,value", [
    ("1" * MAX_DIGITS, int("1" * MAX_DIGITS)),
    ("1e400", 10**400),
    ("-1e-400", Rational(-1, 10**400)),
    ("0." + "0" * (MAX_DIGITS - 2) + "1", Rational(1, 10 ** (MAX_DIGITS - 1))),
])
def test_limits_are_inclusive(text, value):
    assert parse_number(text, "x") == value


def test_quote_stays_short_and_single_line():
    for value in ["a\nb\r\x00\u2028", "x" * 10**7, 10**4000, [["a\n"] * 10**5], {"k\n": "v" * 10**6}]:
        text = quote(value)
        assert text.isprintable() and len(text) <= 45, text


# --- options ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["--form", "json"], "unrecognized arguments: --form json"),
    (["--config", "a.toml", "--config", "b.toml"], "argument --config: expected once, given twice"),
])
def test_option_misuse_is_one_line(args, message):
    out = run(args, text=True)
    assert out.returncode == 2 and message in one_line(out.stderr)


# --- output --------------------------------------------------------------------------------------------------

def test_broken_pipe_ends_quietly():
    proc = subprocess.Popen(CLI, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first byte, as with `| true`
    try:
        err = proc.stderr.read()
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        proc.kill()
        proc.stderr.close()
    assert err == b""


@posix
def test_reader_stopping_early_ends_quietly():
    out = subprocess.run(f"{shlex.join(CLI)} | head -1", shell=True, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.stdout.startswith("Backpropagation worked solution") and out.stdout.count("\n") == 1
    assert out.stderr == ""


@dev_full
def test_full_disk_is_one_line_and_exit_1():
    with open("/dev/full", "w") as full:
        out = subprocess.run(CLI, stdout=full, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
    assert out.returncode == 1
    assert "cannot write the output: No space left on device" in one_line(out.stderr)


@posix
def test_closed_stdout_is_one_line_and_exit_1():
    out = subprocess.run(f"{shlex.join(CLI)} >&-", shell=True, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 1
    assert "standard output is closed" in one_line(out.stderr)


@functools.lru_cache
def _utf8_output(args: tuple) -> str:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(list(args)) == 0
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("args", [[], ["--theorems", "--param", "w_a11"], ["--format", "markdown"]])
def test_narrow_encodings_get_a_readable_rendering(encoding, args):
    wide = _utf8_output(tuple(args))
    out = run(args, env={**os.environ, "PYTHONIOENCODING": encoding})
    assert out.returncode == 0 and out.stderr == b""
    text = out.stdout.decode(encoding)
    # every character the stream cannot hold has a transliteration: nothing is left as a backslash escape
    assert all(c in ASCII or c.encode(encoding, "ignore") for c in set(wide)), set(wide) - set(text)
    assert text == "".join(c if c.encode(encoding, "ignore") else ASCII[c] for c in wide)
    if not args:
        assert "dL/dw^b_11" in text or encoding != "ascii"
        assert "= -3/80" in text


# --- fuzz: random TOML documents --------------------------------------------------------------------------

NAMES = ["network", "data", "init", "layers", "activation", "loss", "x", "y", "W_a", "W_b", "a b", "é", "k\n", ""]
BASE = {"network": {"layers": "[3, 4, 2]", "activation": '"relu"', "loss": '"mse"'},
        "data": {"x": "[0.9, 0.5, 0.1]", "y": "[1, 0]"}, "init": {"W_a": "0.1", "W_b": "0.1"}}
_big = st.integers(-10**70, 10**70)
_toml_number = st.one_of(  # valid TOML numbers, some past the limits
    _big.map(str),
    st.builds(lambda a, b, e: f"{a}.{b}e{e}", st.integers(-10**5, 10**5), st.integers(0, 10**70), st.integers(-500, 500)),
    st.sampled_from(["inf", "-inf", "nan", "1e-400", "1e400", "1e401", "0x1F", "0o17", "0b101", "1_000.5", "-0.0",
                     "9" * 5000, "0x" + "f" * 5000, "1" * 4299 + "e400"]),
)
_number_text = st.one_of(
    _toml_number,
    st.builds(lambda a, b: f"{a}/{b}", _big, st.integers(0, 10**70)),
    st.builds(lambda m, e: f"{m}e{e}", _big, st.integers(-10**25, 10**25)),
    st.sampled_from(["−3", "\u0661", "\uff19", ".5", "5.", "1e", "--1", " 1 ", "1/-2", "0.1.2", "1e+", "١/٢"]),
)
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_scalar = st.one_of(
    _toml_number,
    _number_text.map(lambda t: json.dumps(t, ensure_ascii=False)),  # a number written as a string
    _text.map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.sampled_from(["true", "false", '"relu"', '"sigmoid"', '"cross_entropy"', "1979-05-27", "{}", "[]"]),
)
_list = st.lists(_scalar, min_size=0, max_size=5).map(lambda v: "[" + ", ".join(v) + "]")
_value = st.one_of(
    _scalar,
    st.lists(_scalar, min_size=3, max_size=3).map(lambda v: "[" + ", ".join(v) + "]"),  # as long as x
    st.lists(_list, min_size=1, max_size=4).map(lambda v: "[" + ", ".join(v) + "]"),  # a matrix, or ragged
    st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3).map(lambda v: "[" + ", ".join(v) + "]"),
                 max_leaves=12),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),  # nesting, up to far too deep
)
_section = st.sampled_from(list(BASE))
_key = st.sampled_from([key for keys in BASE.values() for key in keys])
_new_value = st.builds(lambda place, value: (*place, value),  # mostly: a known key gets an odd value
                       st.sampled_from([(s, k) for s, keys in BASE.items() for k in keys]), _value)
_odd_name = st.tuples(st.one_of(_section, st.sampled_from(NAMES), _text), st.one_of(st.sampled_from(NAMES), _text),
                      st.one_of(st.none(), _value))  # sometimes: an odd key or section, or a key deleted
_change = st.one_of(_new_value, _new_value, _new_value, _new_value, _odd_name)  # (section, key, new value or None: delete)


def toml_document(changes) -> str:
    doc = {section: dict(keys) for section, keys in BASE.items()}
    for section, key, value in changes:
        if value is None:
            doc.get(section, {}).pop(key, None)
        else:
            doc.setdefault(section, {})[key] = value
    q = lambda name: json.dumps(name, ensure_ascii=False)  # noqa: E731
    return "".join(f"[{q(s)}]\n" + "".join(f"{q(k)} = {v}\n" for k, v in keys.items()) for s, keys in doc.items())


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_change, max_size=4), st.sampled_from(["", "", "", "", "", "", "\ufeff", "garbage = "]))
def test_fuzz_random_documents_raise_only_one_line_problem_errors(tmp_path, changes, prefix):
    path = tmp_path / "fuzz.toml"
    path.write_text(prefix + toml_document(changes), encoding="utf-8")
    try:
        load_problem(path)
    except ProblemError as err:
        message = str(err)
        assert "\n" not in message and message.isprintable() and len(message) < 600, message


# --- a field of the wrong type: one line and exit 2 in every command, never a TypeError ------------------

MISTYPED = {
    "activation a table": ('activation = {a = "relu"}', "network.activation: expected one of"),
    "activation a list of lists": ('activation = [["relu"]]', "network.activation: expected one of"),
    "activation a list of a table": ("activation = [{}]", "network.activation: expected one of"),
    "loss a list": ('loss = ["mse"]', "network.loss: expected one of"),
    "loss a table": ("loss = {}", "network.loss: expected one of"),
    "bias a table": ("bias = {}", "network.bias: expected true or false"),
    "layers a table": ("layers = {a = 3}", "network.layers: expected at least three positive integers"),
}


@pytest.mark.parametrize("command", ["print", "check", "variants"])
@pytest.mark.parametrize("case", MISTYPED)
def test_mistyped_field_is_one_line_and_exit_2_in_every_command(tmp_path, capsys, case, command):
    import importlib

    line, message = MISTYPED[case]
    config = write(tmp_path, problem(network=f"[network]\n{line}\n"))
    answers = write(tmp_path, "[answers]\n\"grad.w_b11\" = 0.1\n", "answers.toml")
    argv = {"print": ["--config", config], "check": [answers, "--config", config],
            "variants": ["1", "--out", str(tmp_path / "v"), "--seed", "s", "--config", config, "--format", "md"]}[command]
    assert importlib.import_module(f"derivations.{command}").main(argv) == 2
    err = one_line(capsys.readouterr().err)
    assert message in err, f"{message!r} not in {err!r}"
    assert not (tmp_path / "v").exists()


# --- messages: one bounded line ------------------------------------------------------------------------------

def test_ten_thousand_unknown_answer_keys_are_one_short_line(tmp_path, capsys):
    from derivations.cli.check import main as check

    answers = write(tmp_path, "[answers]\n" + "".join(f'"bogus.key{k}" = 1\n' for k in range(10_000)), "a.toml")
    assert check([answers]) == 2
    err = one_line(capsys.readouterr().err)
    assert "unknown keys 'bogus.key0', 'bogus.key1', 'bogus.key2' and 9997 more" in err


@pytest.mark.parametrize("args,message", [([], "the following arguments are required: answers"),
                                          (["a.toml", "b.toml"], "unrecognized arguments: b.toml"),
                                          (["a.toml", "--format", "xml"], "argument --format: invalid choice")])
def test_check_usage_errors_are_one_line(args, message):
    out = subprocess.run([sys.executable, "-m", "derivations.check", *args], capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert out.returncode == 2 and message in one_line(out.stderr)


@posix
def test_pdf_to_dev_stdout_into_a_reader_that_stops_ends_quietly():
    out = subprocess.run(f"{shlex.join(CLI)} --format pdf -o /dev/stdout | head -c 8", shell=True, capture_output=True,
                         timeout=TIMEOUT)
    assert out.stdout == b"%PDF-1.7" and out.stderr == b""


@pytest.mark.parametrize("value,shown", [("1000001", "got 1000001"), ("-1000000.5", "got -1000000.5"),
                                         ("1e59", "got about 1e59")])
def test_too_large_a_number_is_shown_as_written(tmp_path, capsys, value, shown):
    assert main(["--config", write(tmp_path, problem(x=f"[{value}, 0.5, 0.1]"))]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"data.x: expected numbers of at most 1000000 in size, {shown}" in err, err


# --- nothing lost: -o never overwrites an input ---------------------------------------------------------------

def _link(kind, target, path):
    (os.symlink if kind == "symlink" else os.link)(target, path)
    return str(path)


@pytest.mark.parametrize("fmt", ["text", "pdf", "json"])
@pytest.mark.parametrize("how", ["same path", "another spelling", "symlink", "hard link"])
def test_output_onto_the_problem_file_is_refused_and_it_is_unchanged(tmp_path, capsys, fmt, how):
    config = write(tmp_path, problem())
    before = open(config, "rb").read()
    output = {"same path": lambda: config,
              "another spelling": lambda: str(tmp_path / "." / ".." / tmp_path.name / "p.toml"),
              "symlink": lambda: _link("symlink", config, tmp_path / "link.toml"),
              "hard link": lambda: _link("hard link", config, tmp_path / "hard.toml")}[how]()
    assert main(["--config", config, "--format", fmt, "-o", output]) == 2
    assert "is the problem file this run reads" in one_line(capsys.readouterr().err)
    assert open(config, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"p.toml", os.path.basename(output)})  # no temp file


@pytest.mark.parametrize("name", ["001/problem.toml", "keys.csv", "manifest.sha256", "001/key.md", "link"])
def test_output_onto_a_file_of_a_variants_set_is_refused(tmp_path, capsys, name):
    """Issue 30's rule for every file the tools write: print -o never writes over a variants set's file (its
    manifest lists it), directly or through a link."""
    from derivations.cli.variants import main as variants_main

    out = tmp_path / "v"
    assert variants_main(["1", "--out", str(out), "--seed", "s", "--format", "md", "--jobs", "1"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    target = out / name
    if name == "link":
        target = tmp_path / "key.txt"
        target.symlink_to(out / "001" / "key.md")
    assert main(["--key", "-o", str(target)]) == 2
    err = capsys.readouterr().err  # one line (long only by the test's folder names)
    assert err.count("\n") == 1 and "-o/--output" in err and "of the variants set in" in err, err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_output_onto_the_packaged_handout_is_refused(capsys):
    from derivations.engine.problem import HANDOUT

    before = HANDOUT.read_bytes()
    assert main(["-o", str(HANDOUT)]) == 2
    assert "refusing to overwrite an input" in one_line(capsys.readouterr().err)
    assert HANDOUT.read_bytes() == before


def test_output_through_a_symlink_replaces_its_target_whole(tmp_path):
    target, link = tmp_path / "solution.txt", tmp_path / "link.txt"
    target.write_text("old")
    link.symlink_to(target)
    assert main(["-o", str(link)]) == 0
    assert link.is_symlink() and target.read_text().startswith("Backpropagation worked solution")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "solution.txt"]


# --- reproducible, clean PDFs ---------------------------------------------------------------------------------

def _tool(name):
    import shutil

    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required under CI (.ci/run installs poppler-utils and qpdf)", pytrace=False)
        pytest.skip(f"{name} not installed")
    return name


@pytest.mark.parametrize("worksheet", [False, True], ids=["key", "worksheet"])
def test_two_pdf_runs_are_byte_identical_and_clean(tmp_path, monkeypatch, worksheet):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    files = [tmp_path / "a.pdf", tmp_path / "b.pdf"]
    for f in files:
        assert main(["--format", "pdf", "-o", str(f)] + (["--worksheet"] if worksheet else [])) == 0
    assert files[0].read_bytes() == files[1].read_bytes()
    info = subprocess.run([_tool("pdfinfo"), str(files[0])], capture_output=True, text=True, timeout=TIMEOUT)
    assert info.returncode == 0 and info.stderr == "", info.stderr  # no "Suspects object is wrong type"
    assert "CreationDate" not in info.stdout  # no date of the run: none at all
    check = subprocess.run([_tool("qpdf"), "--check", str(files[0])], capture_output=True, text=True, timeout=TIMEOUT)
    assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout, check.stdout + check.stderr


def test_pdf_dates_come_from_source_date_epoch(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    out = tmp_path / "k.pdf"
    assert main(["--format", "pdf", "-o", str(out)]) == 0
    assert b"/CreationDate(D:20231114221320Z)" in out.read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["--format", "pdf", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "SOURCE_DATE_EPOCH: expected a whole number" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "x.pdf").exists()
