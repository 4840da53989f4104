"""Autoregressive models whose call returns a distribution over the input."""

from tfgen.autoregressive.char_rnn import CharRNN
from tfgen.autoregressive.made import MADE
from tfgen.autoregressive.multiscale_pixelcnn import MultiscalePixelCNN
from tfgen.autoregressive.nade import NADE
from tfgen.autoregressive.parallel_wavenet import ParallelWaveNet
from tfgen.autoregressive.pixelcnn import PixelCNN
from tfgen.autoregressive.pixelrnn import PixelRNN
from tfgen.autoregressive.scheduled_sampling import ScheduledSampling
from tfgen.autoregressive.transformer import ImageTransformer, Transformer
from tfgen.autoregressive.video_pixel_network import VideoPixelNetwork
from tfgen.autoregressive.wavenet import WaveNet

__all__ = ["CharRNN", "ImageTransformer", "MADE", "MultiscalePixelCNN", "NADE", "ParallelWaveNet", "PixelCNN", "PixelRNN", "ScheduledSampling", "Transformer", "VideoPixelNetwork",
           "WaveNet"]
