"""The bento build: import the packaged model into the BentoML store and build the bento."""
