"""The script that fits wide display math to its column (``static/derivations.js``): the course site serves it
from :data:`STATIC` (conf.py), the self-check page carries it inline (:data:`SCRIPT`), so both scale a wide
display the same way."""

from pathlib import Path

STATIC = Path(__file__).with_name("static")
SCRIPT = (STATIC / "derivations.js").read_text(encoding="utf-8")
