"""Build and setup tooling (slides, static pages, the PyTorch wheel choice): used by the Makefile
and the tests, not part of the teaching package ``d2lresnet``."""
