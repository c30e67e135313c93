"""Officers' questions are sensitive: no library may phone home or reach a model hub.

Set before chromadb, gradio, transformers or langchain are imported; every entry point
(CLI, app, tests, benchmarks) imports `ingest` first, which calls this.
"""

import os

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # the model is loaded from site-packages, never downloaded
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma product telemetry
    "GRADIO_ANALYTICS_ENABLED": "False",
    "LANGCHAIN_TRACING_V2": "false",  # LangSmith tracing
    "LANGSMITH_TRACING": "false",
    # langchain-core routes chat models through LangSmith's hosted gateway when this is set.
    "LANGSMITH_GATEWAY": "false",
    "TOKENIZERS_PARALLELISM": "false",  # quiet fork warnings from the Rust tokenizer
    # Quiet, not private: a "Loading weights" bar on stderr is noise in a CLI and in logs.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def keep_everything_local() -> None:
    for name, value in _OFFLINE_ENV.items():
        os.environ[name] = value
