"""The report model and its renderers: rows, the registry of output formats, the table, JSON, CSV, Markdown, ASFF and
HTML, and the JSON vocabulary with its schema."""
