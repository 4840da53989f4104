"""TFP bijectors for normalizing flows. Each composes with ``tfp.bijectors``."""

from tfgen.bijectors.actnorm import ActNorm
from tfgen.bijectors.conv1x1 import InvertibleConv1x1
from tfgen.bijectors.coupling import AdditiveCoupling, AffineCoupling
from tfgen.bijectors.dequantize import Dequantize
from tfgen.bijectors.diagonal_affine import DiagonalAffine
from tfgen.bijectors.factor_out import FactorOut
from tfgen.bijectors.masked_autoregressive import InverseAutoregressive, MaskedAutoregressive
from tfgen.bijectors.base import one_pass
from tfgen.bijectors.reversible_chain import ReversibleChain
from tfgen.bijectors.squeeze import Squeeze, Unsqueeze

__all__ = ["ActNorm", "AdditiveCoupling", "AffineCoupling", "Dequantize", "DiagonalAffine",
           "FactorOut", "InverseAutoregressive", "InvertibleConv1x1", "MaskedAutoregressive",
           "ReversibleChain", "Squeeze", "Unsqueeze", "one_pass"]
