"""The review pack's sections: one module per group, each returning `Section`s."""
