"""The operators a flow is built from; see :mod:`herald.pipeline.flow` for the builder."""
