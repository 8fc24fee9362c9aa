"""torch's submodule paths (``torch.distributions.normal.Normal``, ``import
torch.distributions.gamma``): each names the tritensor module that defines its class. Those
modules hold several families, so an alias also shows the others; the classes are the same
objects as the package's."""

from __future__ import annotations

import sys

#: torch's submodule -> the class it is named after
_SUBMODULE_CLASSES = {
    "bernoulli": "Bernoulli",
    "beta": "Beta",
    "binomial": "Binomial",
    "categorical": "Categorical",
    "cauchy": "Cauchy",
    "chi2": "Chi2",
    "continuous_bernoulli": "ContinuousBernoulli",
    "dirichlet": "Dirichlet",
    "distribution": "Distribution",
    "exponential": "Exponential",
    "fishersnedecor": "FisherSnedecor",
    "gamma": "Gamma",
    "generalized_pareto": "GeneralizedPareto",
    "geometric": "Geometric",
    "gumbel": "Gumbel",
    "half_cauchy": "HalfCauchy",
    "half_normal": "HalfNormal",
    "independent": "Independent",
    "inverse_gamma": "InverseGamma",
    "kumaraswamy": "Kumaraswamy",
    "laplace": "Laplace",
    "log_normal": "LogNormal",
    "logistic_normal": "LogisticNormal",
    "lowrank_multivariate_normal": "LowRankMultivariateNormal",
    "mixture_same_family": "MixtureSameFamily",
    "multinomial": "Multinomial",
    "multivariate_normal": "MultivariateNormal",
    "negative_binomial": "NegativeBinomial",
    "normal": "Normal",
    "one_hot_categorical": "OneHotCategorical",
    "pareto": "Pareto",
    "poisson": "Poisson",
    "relaxed_bernoulli": "RelaxedBernoulli",
    "relaxed_categorical": "RelaxedOneHotCategorical",
    "studentT": "StudentT",
    "transformed_distribution": "TransformedDistribution",
    "uniform": "Uniform",
    "von_mises": "VonMises",
    "weibull": "Weibull",
}


def register(package):
    """Make ``package.<submodule>`` and ``import package.<submodule>`` resolve."""
    for submodule, class_name in _SUBMODULE_CLASSES.items():
        module = sys.modules[getattr(package, class_name).__module__]
        sys.modules.setdefault(f"{package.__name__}.{submodule}", module)
        if not hasattr(package, submodule):
            setattr(package, submodule, module)
