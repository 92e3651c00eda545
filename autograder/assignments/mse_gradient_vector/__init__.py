"""Assignment 2, mse-gradient-vector: the gradient of mean squared error for a weight vector, and mini-batch SGD."""
