"""Data: datasets, the batching ``DataLoader``, the IDX reader and the MNIST / Fashion-MNIST loaders.

Examples:
    >>> import numpy as np
    >>> from hyperion.nn.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(np.zeros((10, 3)), np.arange(10)), batch_size=4, shuffle=True, seed=0)
    >>> [tuple(x.shape) for x, y in loader]
    [(4, 3), (4, 3), (2, 3)]
"""

from hyperion.nn.data.dataloader import DataLoader, default_collate
from hyperion.nn.data.dataset import Dataset, Subset, TensorDataset, random_split
from hyperion.nn.data.datasets import (
    FASHION_MNIST,
    MNIST,
    DatasetNotFoundError,
    DatasetSource,
    DownloadError,
    RemoteFile,
    download_file,
    fashion_mnist,
    load_image_classification,
    locate_split,
    mnist,
    search_locations,
    source_by_name,
)
from hyperion.nn.data.idx import IdxFormatError, parse_idx, read_idx, write_idx

__all__ = [
    "FASHION_MNIST",
    "MNIST",
    "DataLoader",
    "Dataset",
    "DatasetNotFoundError",
    "DatasetSource",
    "DownloadError",
    "IdxFormatError",
    "RemoteFile",
    "Subset",
    "TensorDataset",
    "default_collate",
    "download_file",
    "fashion_mnist",
    "load_image_classification",
    "locate_split",
    "mnist",
    "parse_idx",
    "random_split",
    "read_idx",
    "search_locations",
    "source_by_name",
    "write_idx",
]
