"""Text output shared by the report, the model card and the tuning report.

`markdown`: Markdown tables, folded blocks and number formats; `charts`: charts as text.
"""
