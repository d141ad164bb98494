"""cascadekit: information cascade modelling toolkit."""

__version__ = "0.1.0"
