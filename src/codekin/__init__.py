"""codekin: semantic code search over a repository, from editors, agents, a CLI and Python."""

from codekin import _stdcxx  # noqa: F401  # first: before usearch loads (see the module)
from codekin.hit import Hit
from codekin.index.indexer import IndexProgress, IndexStats
from codekin.settings import Settings
from codekin.workspace import IndexStatus, Workspace

__version__ = "0.1.0"
__all__ = ["Hit", "IndexProgress", "IndexStats", "IndexStatus", "Settings", "Workspace", "__version__"]
