"""Per-vertex features computed once from a graph (DeepInf's structural features)."""
