"""Raw tables: reading, schema validation and cleaning, personal data, adopting a new data file."""
