"""One module per section of the model card; each function takes the :class:`CardContext` and
returns that section's Markdown (empty: the section is left out)."""
