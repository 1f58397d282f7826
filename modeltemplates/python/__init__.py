"""Python sources: how the target interpreter reads them (see DESIGN.md's ``python/`` room)."""
