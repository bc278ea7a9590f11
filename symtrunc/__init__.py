"""symtrunc: exact deep-learning theory for ReLU networks."""
__version__ = "0.1.0"
