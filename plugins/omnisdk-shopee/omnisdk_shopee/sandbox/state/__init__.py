"""The sandbox shop's state: ``catalogue`` (items, models, stock), ``orders`` (the status flow,
masked buyer data) and ``grants`` (authorisation codes and tokens)."""
