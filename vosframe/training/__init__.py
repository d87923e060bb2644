"""Training on the mmengine Runner: feature bank, clip datasets, model adapter, train()."""
