"""``tritensor.distributions``: probability distributions with sampling, log-densities and
KL divergences (``torch.distributions``)."""

import sys

from . import constraints  # noqa: F401
from .basic import Bernoulli, Categorical, Normal, Uniform  # noqa: F401
from .continuous import Beta, Cauchy, Chi2, Dirichlet, Exponential, Gamma, Laplace, LogNormal  # noqa: F401
from .discrete import Binomial, Geometric, Independent, OneHotCategorical, Poisson  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from . import transforms  # noqa: F401
from .constraint_registry import biject_to, transform_to  # noqa: F401
from .transformed import TransformedDistribution  # noqa: F401
from .multivariate import LowRankMultivariateNormal, MultivariateNormal  # noqa: F401
from .transformed_families import (  # noqa: F401
    Gumbel, HalfCauchy, HalfNormal, InverseGamma, Kumaraswamy, LogisticNormal, Pareto, RelaxedBernoulli,
    RelaxedOneHotCategorical, Weibull,
)
from .more import ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, StudentT, VonMises  # noqa: F401
from .more_discrete import (  # noqa: F401
    MixtureSameFamily, Multinomial, NegativeBinomial, OneHotCategoricalStraightThrough,
)
from .transforms import (  # noqa: F401
    AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
    CumulativeDistributionTransform, ExpTransform, IndependentTransform, LowerCholeskyTransform,
    PositiveDefiniteTransform, PowerTransform, ReshapeTransform, SigmoidTransform, SoftmaxTransform,
    SoftplusTransform, StackTransform, StickBreakingTransform, TanhTransform, Transform, identity_transform,
)
from .exp_family import ExponentialFamily  # noqa: F401
from .wishart import Wishart  # noqa: F401
from .lkj_cholesky import LKJCholesky  # noqa: F401
from . import exp_family, lkj_cholesky, utils, wishart  # noqa: F401
from . import _aliases  # noqa: E402

_aliases.register(sys.modules[__name__])  # torch's submodule paths: distributions.normal, .gamma, ...
