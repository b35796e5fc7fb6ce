"""The pull-request report: this branch's model against a baseline git ref, in one Markdown."""
