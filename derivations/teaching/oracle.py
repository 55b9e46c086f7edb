"""The independent check of a variant: a forward and backward pass in plain NumPy floats, written from the
registry's NumPy functions (each activation's, output layer's and loss's forward and local derivative), never
from the derivation; :func:`verify` compares every exact value of a variant with it before anything is
written (relative 1e-9) and proves the symmetry theorems again where the init is symmetric.

>>> from derivations import load_problem
>>> round(float(numpy_backprop(load_problem())["grad"]["W_b"][1, 0]), 6)
0.0375
"""

from __future__ import annotations

import re

from ..engine.derivation import parse_param
from ..engine.ops import ACTIVATIONS, LOSSES, OUTPUTS
from ..engine.problem import Problem, bias_name, weight_name
from ..engine.theorems import last_rows_equal, symmetric, theorems_for


class VerificationError(RuntimeError):
    """A variant's derivation disagrees with the independent check: a bug of ours, never written out."""


def flat(item) -> list:
    """The numbers of a nested list or tuple, in order."""
    return [e for sub in item for e in flat(sub)] if isinstance(item, (list, tuple)) else [item]


def forward_keys(p: Problem) -> list:
    """The forward quantities' names as :class:`Values` keys them: ``H, L, O, Y`` for one hidden layer,
    ``H1, L1, H2, L2, ..., O, Y`` for more."""
    hidden = [k for l in range(p.depth) for k in ((f"H{l + 1}", f"L{l + 1}") if p.depth > 1 else ("H", "L"))]
    return hidden + ["O", "Y"]


def numpy_backprop(p: Problem) -> dict:
    """Forward and backward pass in plain NumPy floats, for any depth, biases, samples, activation per layer,
    output layer and loss, from the registry's NumPy functions (each activation's, output layer's and loss's
    forward and local derivative): no SymPy, no derivation. ``{"forward": {key: [one array per sample]},
    "backward": {key: [...]}, "loss": mean, "losses": [per sample], "grad": {"W_a": array, "b_a": column,
    ...}}``, keyed as :class:`Values` names them (``H1``, ``dL_dH1``, ...); a sample's backward values are
    those of its own loss, and the gradients those of the mean loss."""
    import numpy as np


    keys = forward_keys(p)
    out_layer, loss = OUTPUTS[p.output], LOSSES[p.loss]
    acts = [ACTIVATIONS[a] for a in p.activations]
    Ws = [np.array(W.tolist(), dtype=float) for W in p.weights]
    bs = [np.array([float(v) for v in b]) for b in p.biases] if p.bias else [np.zeros(W.shape[0]) for W in Ws]
    forward = {k: [] for k in keys}
    backward = {k: [] for k in ["dL_dY", "dY_dO", "dL_dO"] + [f"dL_d{k}" for k in reversed(keys[:-2])]}
    grads = [np.zeros_like(W) for W in Ws]
    bgrads = [np.zeros_like(b) for b in bs]
    losses, dx = [], []
    S = p.n_samples
    for xs, ys in zip(p.xs, p.ys):
        x, y = np.array([float(v) for v in xs]), np.array([float(v) for v in ys])
        inputs, v = [], x
        for l, act in enumerate(acts):  # forward: H = W v + b, L = act(H)
            inputs.append(v)
            H = Ws[l] @ v + bs[l]
            v = np.asarray(act.numpy(H), dtype=float) * np.ones_like(H)
            forward[keys[2 * l]].append(H)
            forward[keys[2 * l + 1]].append(v)
        inputs.append(v)
        O = Ws[-1] @ v + bs[-1]
        Y = np.asarray(out_layer.numpy(O), dtype=float)
        forward["O"].append(O)
        forward["Y"].append(Y)
        losses.append(float(loss.numpy(Y, y)))
        dY = np.asarray(loss.numpy_local(Y, y), dtype=float)
        J = np.asarray(out_layer.numpy_jacobian(Y), dtype=float)  # J[k, j] = dY_k/dO_j
        delta = J.T @ dY  # ∇O
        backward["dL_dY"].append(dY)
        backward["dY_dO"].append(J)
        backward["dL_dO"].append(delta)
        for l in range(len(Ws) - 1, -1, -1):  # backward: each layer's gradient, then ∇L, ∇H of the layer below
            grads[l] += np.outer(delta, inputs[l]) / S
            bgrads[l] += delta / S
            if l > 0:
                dL = Ws[l].T @ delta
                H, L = forward[keys[2 * (l - 1)]][-1], forward[keys[2 * (l - 1) + 1]][-1]
                delta = dL * np.asarray(acts[l - 1].numpy_local(H, L), dtype=float)
                backward[f"dL_d{keys[2 * (l - 1) + 1]}"].append(dL)
                backward[f"dL_d{keys[2 * (l - 1)]}"].append(delta)
        dx.append(Ws[0].T @ delta)  # the inputs' gradient: ∇x = W_aᵀ ∇H (each sample's loss)
    grad = {weight_name(l): g for l, g in enumerate(grads)}
    if p.bias:  # a shared bias is added by every unit of its layer: the units' gradients summed
        grad.update({bias_name(l): g.sum(keepdims=True)[:, None] if p.shared_bias else g[:, None] for l, g in enumerate(bgrads)})
    return {"forward": forward, "backward": backward, "loss": sum(losses) / S, "losses": losses, "grad": grad, "dL_dx": dx}


def verify(values, graded_values=()) -> None:
    """Check a variant before it is written: every exact value (every sample's forward and backward values,
    each sample's loss and the mean, every gradient) and every ``(key, value)`` of ``graded_values`` (the
    keys.csv row: a descent step too) against :func:`numpy_backprop` (relative 1e-9), and, for
    a symmetric init, every symmetry theorem proved for its structure and true of its numbers (equal gradient
    rows and columns in every hidden layer; zero earlier layers when the last layer's rows are equal and the
    output is a softmax). Raises :class:`VerificationError`."""
    import numpy as np

    p = values.problem
    ref = numpy_backprop(p)

    def close(name, exact, want):
        got = np.array([float(values.decimal(e)) for e in flat(exact)], dtype=float)
        want = np.asarray(want, dtype=float).ravel()
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            raise VerificationError(f"{p.source}: {name}: derivation {got.tolist()} but NumPy {want.tolist()}")

    for group in ("forward", "backward"):
        for key, per_sample in ref[group].items():
            for s, want in enumerate(per_sample):
                at = f"@{s + 1}" if p.n_samples > 1 else ""
                close(f"{group}.{key}{at}", values.sample(group, key, s), want)
    close("forward.loss", values.forward["loss"], ref["loss"])
    if p.n_samples > 1:
        close("forward.losses", values.forward["losses"], ref["losses"])
    if set(values.gradients) != set(ref["grad"]):
        raise VerificationError(f"{p.source}: gradients of {sorted(values.gradients)} but NumPy has {sorted(ref['grad'])}")
    for name, m in values.gradients.items():
        close(f"grad.{name}", m.tolist(), ref["grad"][name])
    for key, value in graded_values:
        close(key, value, _reference(p, ref, key))

    if symmetric(p):
        for th in theorems_for(p):
            if not th.holds:
                raise VerificationError(f"{p.source}: theorem {th.key} is not proved")
            if th.key.startswith(("symmetry", "permanence")) and not th.applies:
                raise VerificationError(f"{p.source}: the init is symmetric but theorem {th.key} does not apply")
        for l in range(p.depth):
            Gin, Gout = values.gradients[weight_name(l)], values.gradients[weight_name(l + 1)]
            if any(Gin.row(i) != Gin.row(0) for i in range(Gin.rows)) or \
                    any(Gout.col(j) != Gout.col(0) for j in range(Gout.cols)):
                raise VerificationError(f"{p.source}: a symmetric init whose hidden units (layer {l + 1}) get unequal gradients")
        if OUTPUTS[p.output].sums_to_one and last_rows_equal(p):  # the dead earlier layers (the softmax lemma)
            earlier = [name for name in values.gradients if name[2] != weight_name(p.depth)[2]]
            if any(g != 0 for name in earlier for g in values.gradients[name]):
                raise VerificationError(f"{p.source}: equal rows of {weight_name(p.depth)} but a nonzero gradient before it")


_GRADED_KEY = re.compile(r"(forward|backward|grad|step|descent|problem|local)\.(\w+)(?:\[(\d+)(?:,(\d+))?\])?(?:@(\d+))?",
                         re.ASCII)


def _reference(p: Problem, ref: dict, key: str) -> float:
    """A graded key's value in :func:`numpy_backprop`'s results ``ref`` (a step's change: minus the page's
    learning rate times the NumPy gradient; a descent step: the parameter plus that change)."""
    group, name, i, j, at = _GRADED_KEY.fullmatch(key).groups()
    s = int(at or 1) - 1
    if group == "problem":  # a given the page asks to copy: x or y
        return float((p.xs if name == "x" else p.ys)[s][int(i) - 1])
    if group == "local":  # an activation's local derivative, dL_dH (dL1_dH1, ...): the registry's NumPy form
        import numpy as np

        hidden = name.split("_d")[1]
        layer = forward_keys(p).index(hidden) // 2
        H, L = ref["forward"][hidden][s], ref["forward"][forward_keys(p)[2 * layer + 1]][s]
        local = np.asarray(ACTIVATIONS[p.activations[layer]].numpy_local(H, L), dtype=float) * np.ones_like(H)
        return float(local[int(i) - 1])
    if group in ("forward", "backward"):
        if name == "loss":
            return ref["losses"][s] if at else ref["loss"]
        vector = ref["dL_dx"][s] if name == "dL_dx" else ref[group][name][s]
        return vector[int(i) - 1] if j is None else vector[int(i) - 1, int(j) - 1]
    w = parse_param(name, p)
    column = w.j if w.kind == "weight" else 0
    g = ref["grad"][w.matrix][w.i, column]
    if group == "grad":
        return g
    if group == "step":  # the closing step's change, −η·∂L/∂w
        return -float(p.step_lr) * g
    start = p.params()[w.matrix][w.i, w.j] if w.kind == "weight" else p.params()[w.matrix][w.i]
    return float(start) - float(p.step_lr) * g
