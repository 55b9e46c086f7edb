extensions = ["myst_parser", "derivations.sphinx.extension"]
myst_enable_extensions = ["dollarmath"]
source_suffix = {".md": "markdown"}
