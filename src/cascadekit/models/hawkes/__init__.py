"""Marked multidimensional Hawkes models of interacting cascades: IC, linMIC, CC, MIC (paper 002)."""

from cascadekit.models.hawkes.inference import fit_hawkes, select_tau_beta
from cascadekit.models.hawkes.likelihood import log_likelihood, log_likelihood_grad
from cascadekit.models.hawkes.model import MIC, HawkesConfig, MarkedHawkes
from cascadekit.simulate.hawkes_params import VARIANTS, HawkesParams

__all__ = [
    "MIC",
    "VARIANTS",
    "HawkesConfig",
    "HawkesParams",
    "MarkedHawkes",
    "fit_hawkes",
    "log_likelihood",
    "log_likelihood_grad",
    "select_tau_beta",
]
