"""Two-stage models: a VQ-VAE and autoregressive priors over its codes."""

from tfgen.latent.codebook_usage import CodebookUsage
from tfgen.latent.vqvae import VQVAE

__all__ = ["CodebookUsage", "VQVAE"]
