"""Two-stage models: a VQ-VAE and autoregressive priors over its codes."""

from tfgen.latent.code_prior import CodePrior
from tfgen.latent.codebook_usage import CodebookUsage
from tfgen.latent.text_to_image import TextToImage, encode_captions
from tfgen.latent.vqvae import VQVAE

__all__ = ["CodePrior", "CodebookUsage", "TextToImage", "VQVAE", "encode_captions"]
