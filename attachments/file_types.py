"""Which stored types are text: one rule for content sniffing, text extraction (search) and
the UTF-8-or-base64 choice of seed 001's /content."""

# Types outside text/* whose bytes are text a person reads.
TEXT_APPLICATION_TYPES = frozenset(
    {
        "application/json",
        "application/jsonl",
        "application/x-ndjson",
        "application/yaml",
        "application/toml",
        "application/xml",
        "application/javascript",
        "application/x-sh",
        "application/sql",
    }
)


def is_textual(mime_type: str) -> bool:
    """Whether a type names text (its parameters and case aside): text/*, the structured
    text formats above, and any +xml or +json type. Whether given bytes *are* valid text is
    a separate check (`artifacts.version_bytes.is_valid_utf8`, the sniffer's look at the head)."""
    base = mime_type.split(";", 1)[0].strip().lower()
    return (
        base.startswith("text/")
        or base in TEXT_APPLICATION_TYPES
        or base.endswith(("+xml", "+json"))
    )
