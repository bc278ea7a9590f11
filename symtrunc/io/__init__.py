"""Reading and writing networks and certificates.

:func:`read_network` and :func:`write_network` (:mod:`symtrunc.io.network_files`) read and
write every network format, chosen by the file's extension (``.json``, ``.onnx``,
``.safetensors``, ``.pt``, ``.npz``).
"""

from symtrunc.io.json import dumps_network, load_network, loads_network, save_certificate, save_network
from symtrunc.io.network_files import read_float_network, read_network, write_network

__all__ = [
    "load_network",
    "loads_network",
    "save_certificate",
    "save_network",
    "dumps_network",
    "read_network",
    "read_float_network",
    "write_network",
]
