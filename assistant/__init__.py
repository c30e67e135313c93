"""The assistant: retrieve -> answer -> cite, the CLI and the Gradio app."""

import ingest  # noqa: F401  (sets the offline and no-telemetry environment first)
