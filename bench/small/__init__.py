"""Per-request cost of small requests (issue 11): Depot on the embedded default, Depot on the
production profile and a bare ASGI baseline that does only the unavoidable work, interleaved."""
