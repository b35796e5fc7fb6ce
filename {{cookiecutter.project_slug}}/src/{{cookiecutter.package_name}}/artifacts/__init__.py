"""Pipeline outputs: atomic writing, content hashes, output paths.

Also `keep`: outputs that DVC removed for a failed stage are put back.
"""
