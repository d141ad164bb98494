"""Layers shared by models, over dense batched graphs (fixed-size, or variable-size with a node
mask): multi-head graph attention (`gat`) and graph convolution (`gcn`)."""

from cascadekit.nn.gat import DenseGraphAttention
from cascadekit.nn.gcn import DenseGraphConv, normalized_adjacency

__all__ = ["DenseGraphAttention", "DenseGraphConv", "normalized_adjacency"]
