"""Image flows as ``tf_keras.Model`` subclasses."""

from tfgen.flows.base import FlowModel
from tfgen.flows.glow import Glow
from tfgen.flows.maf import IAF, MAF, autoregressive_flow
from tfgen.flows.nice import NICE
from tfgen.flows.realnvp import RealNVP

__all__ = ["FlowModel", "Glow", "IAF", "MAF", "NICE", "RealNVP", "autoregressive_flow"]
