"""The public status surface (docs/design.md §12): what the status page, its JSON and the
badges show.

``banner`` and ``slo`` are pure; ``days`` splits a timeline into daily uptime; ``collect``
reads the daemon's state and history into one ``StatusReport`` that every public view renders.
"""
