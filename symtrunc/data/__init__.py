"""Exact labeled data: :class:`LabeledData`, loaders and chunked point streams."""

from symtrunc.data.labeled import LabeledData, load_data

__all__ = ["LabeledData", "load_data"]
