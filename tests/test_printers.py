"""One printer framework for math: every printer of the package is a SymPy printer (SymPy's dispatch on the
class name, a subclass per target), those of the page's math tree included, and the page's text and LaTeX
printers print a SymPy expression exactly as the worked solution's printers do."""

import importlib
import inspect
import pkgutil

import pytest
from sympy import Symbol
from sympy.printing.printer import Printer

import derivations
from derivations import grad, load_problem
from derivations.notation.printing import tex, text
from derivations.notation.tree import Held, Numeral, Slot, Word, partial, row, sym
from derivations.notation.tree_printing import LatexMath, TextMath, TreePrinter, TypstMath, from_sympy, to_text


def _classes():
    for info in pkgutil.walk_packages(derivations.__path__, "derivations."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def test_every_class_that_prints_math_is_a_sympy_printer():
    classes = list(_classes())
    printers = [c for c in classes if any(name.startswith("_print_") for name in vars(c))]
    assert {c.__name__ for c in printers} >= {"TextPrinter", "TexPrinter", "TextMath", "LatexMath", "TypstMath",
                                              "TreePrinter", "CodePrinter"}
    mixins = [c for c in printers if not issubclass(c, Printer)]  # what the printers of several targets share
    assert {c.__name__ for c in mixins} == {"_Sums", "_Tree"}
    for mixin in mixins:
        users = [c for c in classes if mixin in c.__mro__[1:]]
        assert users and all(issubclass(c, Printer) for c in users), mixin


def test_the_page_printers_print_a_sympy_expression_as_the_worked_solution_does():
    problem = load_problem()
    for name in ("w_b11", "w_a11"):  # the closed forms, with symbolic weights
        expr = grad(problem, name)
        assert TextMath().doprint(expr) == text(expr)
        assert LatexMath().doprint(expr) == tex(expr)


def test_one_tree_in_three_targets_with_its_blank():
    """The handout's Step 1 row for H_1: the weights given, the inputs given, the sum a blank."""
    tree = row(sym("H", 1), "=", Slot(Numeral("0.1"), given=True), "·", Slot(Numeral("0.9"), given=True), "+",
               Slot(Numeral("0.1"), given=True), "·", Slot(Numeral("0.5"), given=True), "+",
               Slot(Numeral("0.1"), given=True), "·", Slot(Numeral("0.1"), given=True), "=", Slot(Numeral("0.15")))
    assert TextMath(worksheet=True).doprint(tree) == "H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = ____"
    assert TextMath(worksheet=False).doprint(tree) == "H_1 = 0.1·0.9 + 0.1·0.5 + 0.1·0.1 = 0.15"
    assert LatexMath(worksheet=True).doprint(tree) == r"H_{1} = 0.1 \cdot 0.9 + 0.1 \cdot 0.5 + 0.1 \cdot 0.1 = \underline{\hspace{2cm}}"
    assert TypstMath(worksheet=False).doprint(tree) == "H_(1) = 0.1 dot 0.9 + 0.1 dot 0.5 + 0.1 dot 0.1 = #ans($ 0.15 $)"


@pytest.mark.parametrize("fixed, text, latex, typst", [
    ((sym("c"),), "(∂f/∂b)_c", r"\left(\frac{\partial f}{\partial b}\right)_{c}", "lr(( frac(partial f, partial b) ))_(c)"),
    ((sym("c"), sym("h", "a")), "(∂f/∂b)_(c, h_a)", r"\left(\frac{\partial f}{\partial b}\right)_{c, h_{a}}",
     "lr(( frac(partial f, partial b) ))_(c comma h_(a))"),
    ((Word("out"),), "(∂f/∂b)_(out)", r"\left(\frac{\partial f}{\partial b}\right)_{\operatorname{out}}",
     'lr(( frac(partial f, partial b) ))_(upright("out"))'),
])
def test_a_derivative_with_what_it_holds_fixed_in_three_targets(fixed, text, latex, typst):
    """A graph's output's local derivative, told from its gradient: ``(∂f/∂b)_c``, as thermodynamics writes it."""
    held = Held(partial(sym("f"), sym("b")), fixed)
    assert (TextMath().doprint(held), LatexMath().doprint(held), TypstMath().doprint(held)) == (text, latex, typst)


@pytest.mark.parametrize("printer", [TextMath, LatexMath, TypstMath])
def test_a_node_no_printer_knows_is_refused_not_printed_as_its_repr(printer):
    with pytest.raises(TypeError, match="has no printing for a object"):
        printer().doprint(row(sym("H", 1), "=", object()))


def test_sympy_into_the_tree_dispatches_on_the_registry_class_names():
    """``max(0, H_1)`` and ``1[H_1 > 0]`` from the engine's ReLU and its step, by class name (the notation
    imports nothing of the engine); a symbol it was not given a tree for is refused."""
    from derivations.engine.ops import ReLU, relu_step

    h = Symbol("h")
    assert to_text(from_sympy(ReLU(h), {h: sym("H", 1)}), False) == "max(0, H_1)"
    assert to_text(from_sympy(relu_step(h), {h: sym("H", 1)}), False) == "1_(H_1 > 0)"
    with pytest.raises(ValueError, match="no printer for h"):
        TreePrinter({"names": {}}).doprint(ReLU(h))
