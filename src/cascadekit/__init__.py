"""cascadekit."""
