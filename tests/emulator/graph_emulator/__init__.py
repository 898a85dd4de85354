"""Local emulator of the Microsoft Entra ID and Microsoft Graph (beta) security endpoints used by msgraph.security.

Start it in-process with ``Emulator(...).start()`` or from the command line with ``python -m graph_emulator serve``.
"""

from .admin import AdminClient, AdminError
from .emulator import Emulator

__all__ = ["AdminClient", "AdminError", "Emulator"]
