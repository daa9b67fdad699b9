"""One domain: its XML read into models, its live facts, power actions, snapshots, and the
record of what was done to it."""
