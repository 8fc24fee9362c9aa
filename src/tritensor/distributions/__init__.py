"""``tritensor.distributions``: probability distributions with sampling, log-densities and
KL divergences (``torch.distributions``): Normal, Uniform, Bernoulli, Categorical so far."""

from . import constraints  # noqa: F401
from .basic import Bernoulli, Categorical, Normal, Uniform  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
