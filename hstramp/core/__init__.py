"""Pure numpy algorithms: arrays in, arrays out, inputs never mutated, no I/O, no datamodels."""
