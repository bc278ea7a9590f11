"""Reading and writing networks and certificates."""

from symtrunc.io.json import dumps_network, load_network, loads_network, save_certificate, save_network

__all__ = ["load_network", "loads_network", "save_certificate", "save_network", "dumps_network"]
