"""mnist_desk: draw a digit, watch a small CNN read it, train it yourself on MNIST."""

__version__ = "0.1.0"
APP_NAME = "MNIST Desk"
