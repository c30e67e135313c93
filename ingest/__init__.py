"""Ingestion: load -> clean -> chunk -> embed -> store. Never imports `assistant`."""

from ingest.privacy import keep_everything_local

keep_everything_local()
