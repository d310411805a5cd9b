"""Renderers: thin views over the engine's diagnostics, one module per format."""
