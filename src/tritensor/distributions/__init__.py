"""``tritensor.distributions``: probability distributions with sampling, log-densities and
KL divergences (``torch.distributions``)."""

from . import constraints  # noqa: F401
from .basic import Bernoulli, Categorical, Normal, Uniform  # noqa: F401
from .continuous import Beta, Cauchy, Chi2, Dirichlet, Exponential, Gamma, Laplace, LogNormal  # noqa: F401
from .discrete import Binomial, Geometric, Independent, OneHotCategorical, Poisson  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
