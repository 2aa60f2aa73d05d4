"""Uploads: streamed to storage in front of Django (`middleware`, with the multipart parsing in
`multipart`), then found by the views (`staged`)."""

from attachments.uploads.staged import form_data, json_object_field, require_upload, staged_upload

__all__ = ["form_data", "json_object_field", "require_upload", "staged_upload"]
