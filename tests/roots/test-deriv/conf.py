extensions = ["myst_parser", "derivations.sphinxext"]
myst_enable_extensions = ["dollarmath"]
source_suffix = {".md": "markdown"}
