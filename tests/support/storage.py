"""What a test's blob store holds."""


def stored_keys() -> set[str]:
    """Every key in the test's blob store (blobs and temporary uploads)."""
    from attachments import storage

    return {key for key, _ in storage.iter_keys("")}
