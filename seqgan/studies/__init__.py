"""Studies above the recipe: Table 1 over seeds, strategies, temperature, rewards, penalties, the tuning
comparison. The recipe never imports them."""
