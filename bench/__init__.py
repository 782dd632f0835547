"""turnkeep's benchmark suite (``bash scripts/bench``). Reports ratios; asserts nothing."""
