"""Read the workshop's single source of names and versions: the top-level .env.

Every check and test takes names from here (``S["WEB_IMAGE"]``), never a literal.
"""

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ENV_FILE = PROJECT / ".env"


def load(path=ENV_FILE):
    """Parse KEY=value lines (comments and blank lines ignored), as compose does."""
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


S = load()
