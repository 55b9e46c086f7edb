"""The layers: each subpackage of the package imports only its own layer and those below it (the notation
none of them), every import counted, those inside functions too."""

from test_imports import import_graph

LAYERS = {'notation': 0, 'engine': 1, 'teaching': 2, 'outputs': 3, 'cli': 4, 'sphinx': 4}


def layer(module: str):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else None


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for module, imports in sorted(import_graph().items()):
        own = layer(module)
        if own is None:  # the public API and the command shims at the top
            continue
        for target in sorted(imports):
            other = layer(target)
            if other is None:
                if target != "derivations":  # the package itself, for __version__
                    wrong.append(f"{module} imports {target}")
            elif other != own and LAYERS[other] >= LAYERS[own]:
                wrong.append(f"{module} ({own}) imports {target} ({other})")
    assert wrong == [], "\n".join(wrong)


def test_every_module_has_a_layer():
    loose = [m for m in import_graph() if m.count(".") == 1 and m.split(".")[1] not in LAYERS
             and m.split(".")[1] not in {'check', 'grade', 'myst', 'print', 'variants'}]
    assert loose == [], loose
