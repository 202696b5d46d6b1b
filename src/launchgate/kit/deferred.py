"""Libraries left out of the server's start, imported off the event loop when first needed.

The server defers what only some installations use (bench/RESULTS.md, "Resident memory").
Imported where it is first needed, a library was imported on the event loop: tens of
milliseconds on a quiet machine, far more on a loaded one, during which no other request
was answered. An async caller awaits ``imported`` first; the synchronous code after it
then finds the module loaded.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from types import ModuleType


async def imported(name: str) -> ModuleType:
    """The module ``name``, imported in a worker thread the first time."""
    module = sys.modules.get(name)
    if module is None:
        module = await asyncio.to_thread(importlib.import_module, name)
    return module
