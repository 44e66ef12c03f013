"""A blinded human-evaluation sheet: one self-contained page to rate samples, and its scoring."""
