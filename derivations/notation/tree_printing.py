r"""The page's math tree written out: as Typst math, LaTeX math and plain text.

Each printer walks a tree of :mod:`derivations.notation.tree`; on a worksheet an answer slot is a blank.

>>> from derivations.notation.tree import Slot, Numeral, row, sym
>>> print(to_latex(row(sym("Y", 1), "=", Slot(Numeral("0.5"))), worksheet=True))
Y_{1} = \underline{\hspace{2cm}}
"""

from __future__ import annotations

from .tree import NAMED, OPS, _LETTERS, _NUMBER, Numeral, Row, Slot, Sym, Word

# -- strings ----------------------------------------------------------------------------------------


def typst_string(text: str) -> str:
    """A Typst string literal: the only way a user's text reaches Typst source.

    >>> typst_string('a "b" \\\\ #c')
    '"a \\\\"b\\\\" \\\\\\\\ #c"'
    """
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def _check_number(text: str) -> str:
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    return text


class _Printer:
    """Shared walk; subclasses spell each node."""

    def __init__(self, worksheet: bool):
        self.worksheet = worksheet

    def __call__(self, node) -> str:
        if isinstance(node, str):
            return self.word(node)
        return getattr(self, type(node).__name__.rstrip("_").lower())(node)

    def row(self, node):
        return self.join([self(i) for i in node.items])

    def join(self, parts):
        return " ".join(p for p in parts if p)

    def slot(self, node):
        if node.given or not self.worksheet:
            return self.filled(node, self(node.content))
        return self.blank(wide=isinstance(node.content, Row) and len(node.content.items) > 2)

    def filled(self, node, body):
        return body


class TypstMath(_Printer):
    """Typst math source of a tree (inside ``$ ... $``). Answers are wrapped in ``#ans[...]``; blanks are
    ``#blank``; words are string literals."""

    def sym(self, n):
        base = NAMED[n.base][0] if n.base in NAMED else _letters(n.base)
        out = base
        if n.sub is not None:
            out += f"_({self(n.sub)})"
        if n.sup is not None:
            out += f"^({self(n.sup)})"
        return out

    def raw(self, n):
        return n.typst

    def word(self, n):
        text = n.text if isinstance(n, Word) else n
        return f"upright({typst_string(text)})"

    def numeral(self, n):
        return _check_number(n.text)

    def operator(self, n):
        return OPS[n.kind][0]

    def frac(self, n):
        return f"frac({self(n.num)}, {self(n.den)})"

    def pow(self, n):
        return f"{self(n.base)}^({self(n.exp)})"

    def paren(self, n):
        left, right = ("(", ")") if n.kind == "(" else ("[", "]")
        return f"lr({left} {self(n.body)} {right})"

    def call(self, n):
        name = {"max": "max", "ln": "ln", "tanh": "tanh"}.get(n.name) or f"op({typst_string(n.name)})"
        if n.prime:
            name = f"op({typst_string(n.name + chr(0x2032))})"
        args = " comma ".join(self(a) for a in n.args)
        return f"{name} lr(( {args} ))"

    def vec(self, n):
        return f'vec(delim: "(", {", ".join(self(i) for i in n.items)})'

    def mat(self, n):
        return 'mat(delim: "(", ' + "; ".join(", ".join(self(c) for c in r) for r in n.rows) + ")"

    def under(self, n):
        return f"underbrace({self(n.body)}, {self(n.label)})"

    def blank(self, wide=False):
        return "#blank(wide: true)" if wide else "#blank()"

    def filled(self, node, body):
        return body if node.given else f"#ans($ {body} $)"

    def aligned(self, n):
        return r" \ ".join(self(r) for r in n.rows)


class LatexMath(_Printer):
    """LaTeX math of a tree; blanks are ``\\underline{\\hspace{2cm}}``."""

    def sym(self, n):
        base = NAMED[n.base][1] if n.base in NAMED else _letters(n.base)
        out = base
        if n.sup is not None:
            out += f"^{{{self(n.sup)}}}"
        if n.sub is not None:
            out += f"_{{{self(n.sub)}}}"
        return out

    def raw(self, n):
        return n.tex

    def word(self, n):
        text = n.text if isinstance(n, Word) else n
        if _LETTERS.fullmatch(text):
            return rf"\operatorname{{{text}}}"
        return r"\text{" + latex_escape(text) + "}"

    def numeral(self, n):
        return _check_number(n.text)

    def operator(self, n):
        return OPS[n.kind][1]

    def frac(self, n):
        return rf"\frac{{{self(n.num)}}}{{{self(n.den)}}}"

    def pow(self, n):
        return f"{{{self(n.base)}}}^{{{self(n.exp)}}}"

    def paren(self, n):
        left, right = (r"\left(", r"\right)") if n.kind == "(" else (r"\left[", r"\right]")
        return f"{left}{self(n.body)}{right}"

    def call(self, n):
        name = {"max": r"\max", "ln": r"\ln", "tanh": r"\tanh"}.get(n.name) or rf"\operatorname{{{_letters(n.name)}}}"
        return rf"{name}{chr(39) if n.prime else ''}\left({', '.join(self(a) for a in n.args)}\right)"

    def vec(self, n):
        return r"\begin{pmatrix} " + r" \\ ".join(self(i) for i in n.items) + r" \end{pmatrix}"

    def mat(self, n):
        return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(self(c) for c in r) for r in n.rows) + r" \end{pmatrix}"

    def under(self, n):
        return rf"\underbrace{{{self(n.body)}}}_{{{self(n.label)}}}"

    def blank(self, wide=False):
        return r"\underline{\hspace{%s}}" % ("4cm" if wide else "2cm")

    def aligned(self, n):
        return r"\begin{aligned} " + r" \\ ".join(self(r) for r in n.rows) + r" \end{aligned}"

    def row(self, node):
        parts = [self(i) for i in node.items]
        # LaTeX glues juxtaposed parentheses; keep the tree's spacing readable.
        return " ".join(p for p in parts if p)


class TextMath(_Printer):
    """Plain text of a tree; blanks are ``____``."""

    def sym(self, n):
        base = NAMED[n.base][2] if n.base in NAMED else n.base
        out = base
        if n.sup is not None:
            out += f"^{self(n.sup)}"
        if n.sub is not None:
            sub = self(n.sub)
            out += f"_{sub}" if isinstance(n.sub, (Numeral, Sym)) and "_" not in sub else f"_({sub})"
        return out

    def raw(self, n):
        return n.text

    def word(self, n):
        return n.text if isinstance(n, Word) else n

    def numeral(self, n):
        return n.text.replace("-", "−")

    def operator(self, n):
        return OPS[n.kind][2]

    def join(self, parts):
        return "".join(parts)

    def frac(self, n):
        return f"{self._atom(n.num)}/{self._atom(n.den)}"

    def _atom(self, node):
        text = self(node)
        simple = (isinstance(node, (Numeral, Sym, Slot)) or " " not in text) and not text.startswith("−")
        return text if simple or text.startswith("(") and text.endswith(")") else f"({text})"

    def pow(self, n):
        return f"{self._atom(n.base)}^{self._atom(n.exp)}"

    def paren(self, n):
        left, right = ("(", ")") if n.kind == "(" else ("[", "]")
        return f"{left}{self(n.body)}{right}"

    def call(self, n):
        return f"{n.name}{chr(39) if n.prime else ''}({', '.join(self(a) for a in n.args)})"

    def vec(self, n):
        return "(" + ", ".join(self(i) for i in n.items) + ")ᵀ"

    def mat(self, n):
        return "[" + "; ".join(" ".join(self(c) for c in r) for r in n.rows) + "]"

    def under(self, n):
        return self(n.body)

    def blank(self, wide=False):
        return "________" if wide else "____"

    def aligned(self, n):
        return "\n    ".join(self(r) for r in n.rows)


def latex_escape(text: str) -> str:
    """Text for LaTeX: every special character escaped.

    >>> print(latex_escape("a_b & 50% {x} ~^#$"))
    a\\_b \\& 50\\% \\{x\\} \\textasciitilde{}\\textasciicircum{}\\#\\$
    """
    special = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
               "·": r"\textperiodcentered{}", "—": "---", "–": "--"}
    return "".join(special.get(c, "\\" + c if c in "&%$#_{}" else c) for c in text)


def _letters(text: str) -> str:
    if not _LETTERS.fullmatch(text):
        raise ValueError(f"not a name: {text!r}")
    return text


def to_typst(tree, worksheet: bool) -> str:
    return TypstMath(worksheet)(tree)


def to_latex(tree, worksheet: bool) -> str:
    return LatexMath(worksheet)(tree)


def to_text(tree, worksheet: bool) -> str:
    return TextMath(worksheet)(tree)
