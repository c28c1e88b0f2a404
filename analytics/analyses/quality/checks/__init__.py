"""One module per quality check; importing this package registers every one of them
(in file-name order). A new check is a new file here that calls
:func:`analytics.analyses.quality.registry.register`."""

import importlib
import pkgutil

from ..registry import CHECKS

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["CHECKS"]
